public import Foundation
import CreditCore

/// The text key-file format of `Protocol/sync.md` §9: private key files are written mode 0600 and
/// refused when group or others can read them, as ssh does.
public enum KeyFile {
    static let privateHeader = "creditsync-private-key-v1"
    static let publicHeader = "creditsync-public-key-v1"

    /// The text of a private key file.
    public static func privateText(_ key: SigningKey) -> String {
        """
        \(privateHeader)
        # Ed25519 signing key. Keep this file secret (mode 0600); give the hub the public key file.
        algorithm: ed25519
        key-id: \(key.keyId)
        public-key: \(Data(key.publicKey.raw).base64EncodedString())
        private-key: \(Data(key.seed).base64EncodedString())
        created: \(ISO8601DateFormatter().string(from: key.created))

        """
    }

    /// The text of a public key file.
    public static func publicText(_ key: VerifyingKey, created: Date? = nil) -> String {
        var lines = [publicHeader, "algorithm: ed25519", "key-id: \(key.keyId)",
                     "public-key: \(Data(key.raw).base64EncodedString())"]
        if let created { lines.append("created: \(ISO8601DateFormatter().string(from: created))") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes a private key file with mode 0600, refusing to overwrite an existing file.
    public static func writePrivate(_ key: SigningKey, to url: URL) throws(KeyError) {
        let path = url.path
        guard !FileManager.default.fileExists(atPath: path) else { throw .file(path: path, reason: "already exists; refusing to overwrite a key") }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .file(path: path, reason: String(cString: strerror(errno))) }
        let data = Array(privateText(key).utf8)
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == data.count, synced == 0 else { throw .file(path: path, reason: "could not write the whole file") }
    }

    /// Writes a public key file (mode 0644).
    public static func writePublic(_ key: VerifyingKey, created: Date? = nil, to url: URL) throws(KeyError) {
        do {
            try Data(publicText(key, created: created).utf8).write(to: url, options: .withoutOverwriting)
        } catch {
            throw .file(path: url.path, reason: error.localizedDescription)
        }
    }

    /// The permission bits of the file at `path` when group or others have any (a secret must
    /// be its owner's alone, as ssh wants of a key); `nil` when they have none or it cannot be read.
    public static func openToOthers(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = Int(info.st_mode) & 0o777
        return mode & 0o077 == 0 ? nil : mode
    }

    /// Why the secret at `path` is refused, when group or others have any access to it:
    /// "PATH is open to group or others (mode 644); make it 0600, …". The TLS keys and the
    /// operator token are refused in these words, after the setting that names them.
    public static func openToOthersRefusal(_ path: String) -> String? {
        openToOthers(path).map {
            "\(path) is open to group or others (mode \(String($0, radix: 8))); make it 0600, owned by the user the daemon runs as"
        }
    }

    /// Reads a private key file, refusing one that group or others can read.
    public static func readPrivate(_ url: URL) throws(KeyError) -> SigningKey {
        guard access(url.path, F_OK) == 0 else { throw .file(path: url.path, reason: String(cString: strerror(errno))) }
        if let mode = openToOthers(url.path) { throw .permissions(path: url.path, mode: mode) }
        // A key made as root for a daemon that runs as its own user (`keygen` before a rotation).
        guard access(url.path, R_OK) == 0 else {
            throw .file(path: url.path, reason: "this process may not read it (\(FileOwnership.describe(url.path) ?? url.path)); a private key "
                        + "belongs to the user the daemon runs as: chown it to that user (creditsync in the shipped units), mode 0600")
        }
        let fields = try parse(url, header: privateHeader)
        guard let seedText = fields["private-key"], let seed = Data(base64Encoded: seedText) else {
            throw .file(path: url.path, reason: "no valid private-key line")
        }
        let created = fields["created"].flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date(timeIntervalSince1970: 0)
        let key = try SigningKey(seed: Array(seed), created: created)
        try check(fields, against: key.publicKey, path: url.path)
        return key
    }

    /// Reads a public key file. A private key file given instead is refused (sync.md §9).
    public static func readPublic(_ url: URL) throws(KeyError) -> VerifyingKey {
        let text = try read(url)
        // A private key file where a public one is expected is a secret handed to someone
        // else (an operator enrolling a node, a node pinning its hub): refused, not read for
        // its public half, so that the mistake is seen while the secret can still be replaced.
        if text.hasPrefix(privateHeader) {
            throw .file(path: url.path, reason: "this is a private key file; give its public half (the .pub file keygen writes beside it) and keep the private key on its machine")
        }
        let fields = try parse(url, header: publicHeader)
        // A public key file is handed to the hub and to other operators: one that carries a
        // private key too is a secret on its way out, not a file to read quietly.
        guard fields["private-key"] == nil else {
            throw .file(path: url.path, reason: "a public key file holds a private-key line; keep the private key out of it")
        }
        guard let rawText = fields["public-key"], let raw = Data(base64Encoded: rawText) else {
            throw .file(path: url.path, reason: "no valid public-key line")
        }
        let key = try VerifyingKey(raw: Array(raw))
        try check(fields, against: key, path: url.path)
        return key
    }

    static func read(_ url: URL) throws(KeyError) -> String {
        do { return try String(contentsOf: url, encoding: .utf8) } catch {
            throw .file(path: url.path, reason: error.localizedDescription)
        }
    }

    static func parse(_ url: URL, header: String) throws(KeyError) -> [String: String] {
        let lines = try read(url).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.first == header else { throw .file(path: url.path, reason: "first line is not \(header)") }
        let known: Set<String> = ["algorithm", "key-id", "public-key", "private-key", "created"]
        var fields: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty && !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { throw .file(path: url.path, reason: "unreadable line '\(line)'") }
            let name = String(line[..<colon])
            guard known.contains(name) else { throw .file(path: url.path, reason: "unknown line '\(name)'") }
            fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard fields["algorithm"] == "ed25519" else { throw .file(path: url.path, reason: "algorithm must be ed25519") }
        return fields
    }

    static func check(_ fields: [String: String], against key: VerifyingKey, path: String) throws(KeyError) {
        if let id = fields["key-id"], id != key.keyId {
            throw .file(path: path, reason: "key-id \(id) does not match the key (\(key.keyId))")
        }
        if let pub = fields["public-key"], Data(base64Encoded: pub).map(Array.init) != key.raw {
            throw .file(path: path, reason: "public-key does not match the private key")
        }
    }
}
