import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Decodes uploaded CSV text. Exports from provincial systems arrive in UTF-8 or GB18030; the
/// charset parameter is honoured when given, and otherwise bytes that are not valid UTF-8 are
/// read as GB18030 (a superset of GBK and GB2312) through the C library's iconv.
public enum TextDecoding {
    public enum Failure: Error { case undecodable(String) }

    public static func decode(_ bytes: [UInt8], charset: String?) throws -> String {
        let name = charset?.lowercased()
        if name == nil || name == "utf-8" || name == "utf8" {
            if let text = String(validating: bytes, as: UTF8.self) { return text }
            if name != nil { throw Failure.undecodable("the body is not valid UTF-8") }
        }
        if name == nil || ["gb18030", "gbk", "gb2312"].contains(name!) {
            return try iconv(bytes, from: "GB18030")
        }
        throw Failure.undecodable("unsupported charset \(charset!); send UTF-8 or GB18030")
    }

    static func iconv(_ bytes: [UInt8], from encoding: String) throws -> String {
        let cd = iconv_open("UTF-8", encoding)
        guard cd != iconv_t(bitPattern: -1) else { throw Failure.undecodable("iconv does not know \(encoding)") }
        defer { iconv_close(cd) }
        var input = bytes.map { CChar(bitPattern: $0) }
        var output = [CChar](repeating: 0, count: bytes.count * 2 + 16)
        var produced = 0
        let ok: Bool = input.withUnsafeMutableBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                var inPtr: UnsafeMutablePointer<CChar>? = inBuf.baseAddress
                var inLeft = inBuf.count
                var outPtr: UnsafeMutablePointer<CChar>? = outBuf.baseAddress
                var outLeft = outBuf.count
                let r = Glibc.iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                produced = outBuf.count - outLeft
                return r != -1 && inLeft == 0
            }
        }
        guard ok else { throw Failure.undecodable("the body is neither valid UTF-8 nor valid GB18030") }
        // All of it, by length: a NUL in the export must reach validation (which refuses it with
        // its field), not silently end the text.
        return String(decoding: output[0..<produced].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
