/// RFC 4180 CSV: fields separated by commas, quoted with `"` (a doubled `""` inside quotes is
/// one quote), records ended by CRLF or LF. A leading UTF-8 byte-order mark is dropped.
public enum CSV {
    /// Why a CSV text could not be read, with the 1-based line.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "CSV line \(line): \(reason)" }
    }

    /// Parses `text` into rows of fields. Blank lines are skipped.
    /// - Throws: ``ParseError`` for an unterminated quote or a quote inside an unquoted field.
    public static func parse(_ text: String) throws(ParseError) -> [[String]] {
        try records(text).map(\.cells)
    }

    /// ``parse(_:)`` with the line each row starts on: a quoted cell may span lines, so a row's
    /// place in the file is not its index, and a clerk looks for it by line.
    public static func records(_ text: String) throws(ParseError) -> [(line: Int, cells: [String])] {
        var rows: [(line: Int, cells: [String])] = []
        var rowLine = 1, quoteLine = 1
        var row: [String] = []
        var field = ""
        var inQuotes = false
        var fieldStarted = false
        var afterQuote = false
        var line = 1
        var chars = text.unicodeScalars[...]
        if chars.first == "\u{FEFF}" { chars = chars.dropFirst() }
        var iterator = chars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func endRow() {
            row.append(field)
            if !(row.count == 1 && row[0].isEmpty) { rows.append((rowLine, row)) }
            row = []
            field = ""
            fieldStarted = false
            afterQuote = false
        }
        while let c = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if c == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; afterQuote = true; pending = next }
                    } else { inQuotes = false; afterQuote = true }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                row.append(field)
                field = ""
                fieldStarted = false
                afterQuote = false
            case "\r":
                if let next = iterator.next(), next != "\n" { pending = next }
                endRow()
                line += 1
                rowLine = line
            case "\n":
                endRow()
                line += 1
                rowLine = line
            case "\"":
                guard !fieldStarted else { throw ParseError(line: line, reason: "a quote inside an unquoted field; quote the whole field") }
                inQuotes = true
                quoteLine = line
                fieldStarted = true
            default:
                guard !afterQuote else { throw ParseError(line: line, reason: "text after a closing quote") }
                field.unicodeScalars.append(c)
                fieldStarted = true
            }
        }
        if inQuotes { throw ParseError(line: quoteLine, reason: "a quoted field opened here is not closed") }
        if fieldStarted || !row.isEmpty || afterQuote { endRow() }
        return rows
    }

    /// Quotes a field when it needs it.
    public static func escape(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

import Foundation
