public import AsyncHTTPClient
import CreditCore
public import Foundation
import NIOCore

/// Uploads a clerk's export files to a node in batches (`creditsync submit`).
///
/// Safe to interrupt and run again: the node treats a resubmitted record as a duplicate, and a
/// progress file beside each input remembers the batches already answered so a rerun skips
/// them. Rejected rows are written, with their reasons, to a rejects file the clerk can fix and
/// submit as it is.
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
        public var skippedBatches = 0
        public var rejectsFile: String?
    }

    /// Why an upload stopped.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Uploads one file (`.json`: a record or an array; `.csv`: a double-publicity export in
    /// UTF-8 or GB18030).
    public func upload(_ path: String) async throws -> Summary {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let isCSV = path.lowercased().hasSuffix(".csv")
        // Batches as request bodies, each with how to name its rows in the rejects file.
        var batches: [(body: Data, contentType: String, rows: [[String]])] = []
        var header: [String] = []
        var total = 0
        if isCSV {
            let text: String
            do { text = try TextDecoding.decode(Array(bytes), charset: nil) } catch { throw Failure(description: "\(path): \(error)") }
            let table: [[String]]
            do { table = try CSV.parse(text) } catch { throw Failure(description: "\(path): \(error)") }
            guard let first = table.first else { throw Failure(description: "\(path) is empty") }
            header = first
            let rows = Array(table.dropFirst())
            total = rows.count
            for start in stride(from: 0, to: rows.count, by: batchSize) {
                let chunk = Array(rows[start..<min(start + batchSize, rows.count)])
                let csv = ([header] + chunk).map { $0.map(CSV.escape).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
                batches.append((Data(csv.utf8), "text/csv; charset=utf-8", chunk))
            }
        } else {
            let json: JSONValue
            do { json = try JSONDecoder().decode(JSONValue.self, from: bytes) } catch {
                throw Failure(description: "\(path) is not valid JSON: \(error)")
            }
            let records: [JSONValue] = if case let .array(a) = json { a } else { [json] }
            total = records.count
            header = ["recordId", "item"]
            for start in stride(from: 0, to: records.count, by: batchSize) {
                let chunk = Array(records[start..<min(start + batchSize, records.count)])
                let body = try JSONEncoder().encode(chunk)
                let rows = chunk.map { r -> [String] in
                    [r.objectValue?["recordId"]?.stringValue ?? "", r.objectValue?["item"]?.stringValue ?? ""]
                }
                batches.append((body, "application/json", rows))
            }
        }

        let progressFile = path + ".progress"
        let done = Int((try? String(contentsOfFile: progressFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        let rejectsPath = path + ".rejected.csv"
        var rejects: [String] = []
        var summary = Summary()
        var sent = 0
        for (index, batch) in batches.enumerated() {
            if index < done {
                summary.skippedBatches += 1
                sent += batch.rows.count
                continue
            }
            let results = try await send(batch.body, contentType: isCSV ? batch.contentType : "application/json", path: isCSV ? "/v1/records/import" : "/v1/records")
            for result in results {
                switch result.status {
                case "accepted": summary.accepted += 1
                case "duplicate": summary.duplicate += 1
                default:
                    summary.rejected += 1
                    let row = isCSV ? batch.rows[result.index - 2] : batch.rows[result.index]
                    let reasons = (result.errors ?? []).map { "\($0.field): \($0.message)" }.joined(separator: "; ")
                    rejects.append((row + [reasons]).map(CSV.escape).joined(separator: ","))
                }
            }
            sent += batch.rows.count
            try String(index + 1).write(toFile: progressFile, atomically: true, encoding: .utf8)
            progress(sent, total, summary.rejected)
        }
        if !rejects.isEmpty {
            let text = ([(header + ["_errors"]).map(CSV.escape).joined(separator: ",")] + rejects).joined(separator: "\r\n") + "\r\n"
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
        let response = try await client.execute(request, timeout: .seconds(120))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else {
            throw Failure(description: "the node answered \(response.status.code): \(String(buffer: buffer).prefix(500))")
        }
        do { return try JSONDecoder().decode(Batch.self, from: Data(buffer: buffer)).results } catch {
            throw Failure(description: "unreadable answer from the node: \(error)")
        }
    }
}
