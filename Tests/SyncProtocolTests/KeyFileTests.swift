import CreditTesting
import Foundation
import SyncProtocol
import Testing

@Suite struct KeyFileTests {
    @Test func privateKeyIsWrittenOwnerOnlyAndReadsBack() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SigningKey()
        let url = dir.appendingPathComponent("node.key")
        try KeyFile.writePrivate(key, to: url)
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let read = try KeyFile.readPrivate(url)
        #expect(read.keyId == key.keyId)
        #expect(try read.sign([1, 2, 3]) == key.sign([1, 2, 3]))
        // A public key is read from a public file only: a private file handed over is refused.
        #expect(throws: KeyError.self) { try KeyFile.readPublic(url) }
        let pub = dir.appendingPathComponent("node.pub")
        try KeyFile.writePublic(key.publicKey, to: pub)
        #expect(try KeyFile.readPublic(pub) == key.publicKey)
        // A key is never overwritten.
        #expect(throws: KeyError.self) { try KeyFile.writePrivate(SigningKey(), to: url) }
    }

    @Test func aKeyReadableByOthersIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("node.key")
        try KeyFile.writePrivate(SigningKey(), to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        #expect(throws: KeyError.permissions(path: url.path, mode: 0o644)) { try KeyFile.readPrivate(url) }
    }

    @Test func tamperedFilesAreRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("node.pub")
        let key = SigningKey().publicKey
        let text = KeyFile.publicText(key).replacingOccurrences(of: key.keyId, with: String(repeating: "0", count: 32))
        try Data(text.utf8).write(to: url)
        #expect(throws: KeyError.self) { try KeyFile.readPublic(url) }
        try Data((KeyFile.publicText(key) + "comment: hi\n").utf8).write(to: url.appendingPathExtension("2"))
        #expect(throws: KeyError.self) { try KeyFile.readPublic(url.appendingPathExtension("2")) }
        // A public key file that carries the private key as well is refused, not read quietly.
        let secret = SigningKey()
        let leaked = dir.appendingPathComponent("leaked.pub")
        let secretFile = dir.appendingPathComponent("leaked.key")
        try KeyFile.writePrivate(secret, to: secretFile)
        let privateLine = try #require(try String(contentsOf: secretFile, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("private-key:") })
        try Data((KeyFile.publicText(secret.publicKey) + privateLine + "\n").utf8).write(to: leaked)
        #expect(throws: KeyError.file(path: leaked.path, reason: "a public key file holds a private-key line; keep the private key out of it")) {
            try KeyFile.readPublic(leaked)
        }
    }

    /// Protocol/README.md, Versioning: a reader MUST refuse a version it does not know. A key
    /// file of a later version is refused, naming the version it reads, not read as this one.
    @Test func aKeyFileOfAnotherVersionIsRefused() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = SigningKey()
        let pub = dir.appendingPathComponent("node.pub")
        try Data(KeyFile.publicText(key.publicKey).replacingOccurrences(of: "creditsync-public-key-v1", with: "creditsync-public-key-v2").utf8).write(to: pub)
        #expect(throws: KeyError.file(path: pub.path, reason: "first line is not creditsync-public-key-v1")) { try KeyFile.readPublic(pub) }
        let secret = dir.appendingPathComponent("node.key")
        try KeyFile.writePrivate(key, to: secret)
        let text = try String(contentsOf: secret, encoding: .utf8)
        try Data(text.replacingOccurrences(of: "creditsync-private-key-v1", with: "creditsync-private-key-v2").utf8).write(to: secret)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: secret.path)
        #expect(throws: KeyError.file(path: secret.path, reason: "first line is not creditsync-private-key-v1")) { try KeyFile.readPrivate(secret) }
    }

    @Test func keyIdIsDerivedFromThePublicKey() throws {
        // RFC 8032 test 1: secret 9d61b19d…, public d75a9801…
        let key = try SigningKey(seed: [UInt8](hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")!)
        #expect(key.publicKey.raw.hex == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        #expect(try key.sign([]).hex == "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        #expect(key.keyId == Array(Hash32.sha256(key.publicKey.raw).bytes.prefix(16)).hex)
    }
}
