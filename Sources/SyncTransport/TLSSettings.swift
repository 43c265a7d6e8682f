public import NIOSSL
import SyncProtocol

/// TLS for the node–hub link: TLS 1.2 at least; the hub may require client certificates
/// (mutual TLS) issued by the province's CA, in addition to the signatures every message carries.
///
/// Each configuration is checked as it is made: every file is read (an error names the file),
/// and the certificate and private key must belong together. Left to the first handshake, a
/// mismatched key stopped the hub only once it had started listening, and left a node retrying
/// for ten seconds a time with an error that read like a network fault.
public enum TLSSettings {
    /// Why a TLS file is unusable, naming it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The hub's server configuration. With `clientCA`, a client without a certificate issued by
    /// that CA is refused during the handshake.
    public static func server(certificate: String, privateKey: String, clientCA: String?) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try certificates(certificate).map { .certificate($0) }, privateKey: .privateKey(try key(privateKey)))
        config.minimumTLSVersion = .tlsv12
        if let clientCA {
            config.trustRoots = .certificates(try certificates(clientCA))
            config.certificateVerification = .noHostnameVerification
        }
        try check(config, certificate: certificate, privateKey: privateKey)
        return config
    }

    /// A node's client configuration: trust the province's CA, present the node's certificate
    /// when it has one.
    public static func client(ca: String?, certificate: String?, privateKey: String?) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let ca { config.trustRoots = .certificates(try certificates(ca)) }
        if let certificate, let privateKey {
            config.certificateChain = try certificates(certificate).map { .certificate($0) }
            config.privateKey = .privateKey(try key(privateKey))
            try check(config, certificate: certificate, privateKey: privateKey)
        }
        return config
    }

    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(path)
            guard !chain.isEmpty else { throw Failure(description: "no PEM certificate in it") }
            return chain
        } catch { throw Failure(description: "TLS certificate file \(path): \(error)") }
    }

    /// Refused when group or others may read it, as the signing keys and the operator token are
    /// (``KeyFile/openToOthersRefusal(_:)``): the key is the daemon's identity on the link.
    static func key(_ path: String) throws -> NIOSSLPrivateKey {
        if let refusal = KeyFile.openToOthersRefusal(path) { throw Failure(description: "TLS private key file \(refusal)") }
        do { return try NIOSSLPrivateKey(file: path, format: .pem) } catch { throw Failure(description: "TLS private key file \(path): \(error)") }
    }

    /// Builds the TLS context once, which checks that the private key is the certificate's.
    static func check(_ config: TLSConfiguration, certificate: String, privateKey: String) throws {
        do { _ = try NIOSSLContext(configuration: config) } catch {
            throw Failure(description: "TLS private key \(privateKey) does not go with the certificate \(certificate): \(error)")
        }
    }
}
