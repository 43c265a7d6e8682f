public import AsyncHTTPClient
import CreditCore
import Foundation
import NIOCore
import SyncProtocol

/// Uploads a clerk's export files to a node in batches (`creditsync submit`).
///
/// Safe to interrupt and run again: the node treats a resubmitted record as a duplicate, and a
/// progress file beside each input remembers how many rows the node answered (and the rejects
/// among them) so a rerun goes on from the next row, with any batch size. Rejected rows are
/// written, with their reasons, to a rejects file the clerk can fix and submit as it is.
public struct Uploader: Sendable {
    public var nodeURL: String
    public var token: String
    public var batchSize: Int
    public var client: HTTPClient
    /// Called after each batch with (records done, records total, rejected so far).
    public var progress: @Sendable (Int, Int, Int) -> Void

    public init(nodeURL: String, token: String, batchSize: Int = 500, client: HTTPClient = .shared,
                progress: @escaping @Sendable (Int, Int, Int) -> Void = { _, _, _ in }) {
        self.nodeURL = nodeURL.hasSuffix("/") ? String(nodeURL.dropLast()) : nodeURL
        self.token = token
        self.batchSize = batchSize
        self.client = client
        self.progress = progress
    }

    /// What an upload did.
    public struct Summary: Sendable, Equatable {
        public var accepted = 0
        public var duplicate = 0
        public var rejected = 0
        /// Rows an earlier, interrupted run of the same file had sent and the node answered.
        public var skippedRows = 0
        public var rejectsFile: String?
    }

    /// Why an upload stopped.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where an interrupted upload of a file stands (`FILE.progress`): which file (its SHA-256),
    /// how many of its rows the node answered, and the rejects among them. A rerun goes on from
    /// that row, whatever batch size it uses; a changed file starts over.
    struct Progress: Codable {
        var file: String
        var rows: Int
        var rejects: [String]
    }

    /// Uploads one file (`.json`: a record or an array; `.csv`: a double-publicity export in
    /// UTF-8 or GB18030).
    public func upload(_ path: String) async throws -> Summary {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let isCSV = path.lowercased().hasSuffix(".csv")
        // The rows to send, as request bodies are made of them, and how each is named in the
        // rejects file.
        var header: [String] = []
        var csvRows: [[String]] = []
        var records: [JSONValue] = []
        if isCSV {
            let text: String
            do { text = try TextDecoding.decode(Array(bytes), charset: nil) } catch { throw Failure(description: "\(path): \(error)") }
            let table: [[String]]
            do { table = try CSV.parse(text) } catch { throw Failure(description: "\(path): \(error)") }
            guard let first = table.first else { throw Failure(description: "\(path) is empty") }
            header = first
            csvRows = Array(table.dropFirst())
        } else {
            let json: JSONValue
            // The protocol's parser: a key given twice is refused, as the node refuses it, rather than
            // one of the two sent on quietly; and numbers keep their text.
            do { json = try JSONValue.parseFile(Array(bytes)) } catch {
                throw Failure(description: "\(path) is not valid JSON: \(error)")
            }
            records = if case let .array(a) = json { a } else { [json] }
            header = ["recordId", "item"]
        }
        let total = isCSV ? csvRows.count : records.count
        func rejectRow(_ i: Int) -> [String] {
            isCSV ? csvRows[i] : [records[i].objectValue?["recordId"]?.stringValue ?? "", records[i].objectValue?["item"]?.stringValue ?? ""]
        }

        let progressFile = path + ".progress"
        let fingerprint = Hash32.sha256(Array(bytes)).hex
        let earlier = (try? Data(contentsOf: URL(fileURLWithPath: progressFile))).flatMap { try? JSONDecoder().decode(Progress.self, from: $0) }
        var state = earlier?.file == fingerprint ? earlier! : Progress(file: fingerprint, rows: 0, rejects: [])
        state.rows = min(state.rows, total)
        var summary = Summary()
        summary.skippedRows = state.rows
        summary.rejected = state.rejects.count
        let rejectsPath = path + ".rejected.csv"
        for start in stride(from: state.rows, to: total, by: max(1, batchSize)) {
            let end = min(start + max(1, batchSize), total)
            let body: Data
            if isCSV {
                let csv = ([header] + csvRows[start..<end]).map { $0.map(CSV.escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
                body = Data(csv.utf8)
            } else {
                body = try JSONEncoder().encode(Array(records[start..<end]))
            }
            let results = try await send(body, contentType: isCSV ? "text/csv; charset=utf-8" : "application/json",
                                         path: isCSV ? "/v1/records/import" : "/v1/records")
            for result in results {
                switch result.status {
                case "accepted": summary.accepted += 1
                case "duplicate": summary.duplicate += 1
                default:
                    summary.rejected += 1
                    // A CSV result names its line in the batch's file (the header is line 1).
                    let row = start + (isCSV ? result.index - 2 : result.index)
                    let reasons = (result.errors ?? []).map { "\($0.field): \($0.message)" }.joined(separator: "; ")
                    state.rejects.append((rejectRow(row) + [reasons]).map(CSV.escape).joined(separator: ","))
                }
            }
            state.rows = end
            try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: progressFile), options: .atomic)
            progress(end, total, summary.rejected)
        }
        if !state.rejects.isEmpty {
            // Led by a byte order mark: without one, Excel in a Chinese locale reads a CSV file as
            // GBK and shows the clerk garbled names. The importer skips the mark (`CSV.parse`).
            let text = "\u{FEFF}" + ([(header + ["_errors"]).map(CSV.escape).joined(separator: ",")] + state.rejects).joined(separator: "\r\n") + "\r\n"
            try text.write(toFile: rejectsPath, atomically: true, encoding: .utf8)
            summary.rejectsFile = rejectsPath
        }
        try? FileManager.default.removeItem(atPath: progressFile)
        return summary
    }

    struct Result: Decodable {
        struct Issue: Decodable { var field: String; var message: String }
        var index: Int
        var status: String
        var errors: [Issue]?
    }

    struct Batch: Decodable { var results: [Result] }

    func send(_ body: Data, contentType: String, path: String) async throws -> [Result] {
        var request = HTTPClientRequest(url: nodeURL + path)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        // A node that is busy (every request-body permit taken) or restoring answers 503 with
        // Retry-After: the batch is sent again after it, up to a dozen times. Writes are
        // idempotent, so a batch the node took before a lost answer comes back as duplicates.
        var attempt = 0
        var response = try await client.execute(request, timeout: .seconds(120))
        while response.status == .serviceUnavailable, attempt < 12 {
            attempt += 1
            _ = try? await response.body.collect(upTo: 1 << 20)
            let seconds = response.headers.first(name: "Retry-After").flatMap(Int.init) ?? 5
            try await Task.sleep(for: .seconds(min(max(seconds, 1), 60)))
            response = try await client.execute(request, timeout: .seconds(120))
        }
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw Failure(description: "the node answered \(response.status.code): \(String(buffer: buffer).prefix(500))")
        }
        do { return try JSONDecoder().decode(Batch.self, from: Data(buffer: buffer)).results } catch {
            throw Failure(description: "unreadable answer from the node: \(error)")
        }
    }
}
