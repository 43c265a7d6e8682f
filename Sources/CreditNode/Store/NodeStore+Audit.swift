public import Foundation
import GRDB

/// One enquiry (Article 21): who asked, about what, when, why, and how many records they got.
public struct AuditEntry: Sendable, Codable, Equatable {
    public var at: Date
    public var credential: String
    public var unit: String
    /// `read-record` or `list-subject`.
    public var action: String
    /// The record key or subject key asked about.
    public var target: String
    public var purpose: String
    public var recordCount: Int

    public init(at: Date, credential: String, unit: String, action: String, target: String, purpose: String, recordCount: Int) {
        self.at = at
        self.credential = credential
        self.unit = unit
        self.action = action
        self.target = target
        self.purpose = purpose
        self.recordCount = recordCount
    }
}

extension NodeStore {
    /// Appends to the audit log (which triggers keep append-only).
    public func audit(_ entry: AuditEntry) throws {
        try writer.write { db in
            try db.execute(sql: "INSERT INTO audit(at, credential, unit, action, target, purpose, record_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [Int64(entry.at.timeIntervalSince1970 * 1000), entry.credential, entry.unit, entry.action,
                                       entry.target, entry.purpose, entry.recordCount])
        }
    }

    /// The newest `limit` audit entries, newest first.
    public func auditEntries(limit: Int = 100) throws -> [AuditEntry] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [limit]).map {
                AuditEntry(at: Date(timeIntervalSince1970: Double($0["at"] as Int64) / 1000), credential: $0["credential"],
                           unit: $0["unit"], action: $0["action"], target: $0["target"], purpose: $0["purpose"],
                           recordCount: $0["record_count"])
            }
        }
    }
}
