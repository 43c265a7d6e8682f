import ArgumentParser
import Foundation
import SyncProtocol

/// `creditsync keygen`: makes an Ed25519 signing key for a node or the hub.
struct Keygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate an Ed25519 signing key (private file mode 0600, public file beside it).",
        discussion: """
        Give the public file to the other side: a node's to the hub operator (creditsync hub node add), \
        the hub's to every node, which pins it. To rotate, generate a new key, enroll it next to the \
        old one, switch the daemon to it, then revoke the old key.
        """)

    @Option(help: "Where to write the private key.")
    var out: String

    @Option(help: "Where to write the public key (default: the private key's path with .pub appended).")
    var publicOut: String?

    @Flag(help: "Print a JSON object.")
    var json = false

    struct Output: Encodable {
        var keyId: String
        var privateKey: String
        var publicKey: String
    }

    func run() async throws {
        let key = SigningKey()
        let privateURL = URL(fileURLWithPath: out)
        let publicURL = URL(fileURLWithPath: publicOut ?? out + ".pub")
        do {
            try KeyFile.writePrivate(key, to: privateURL)
            try KeyFile.writePublic(key.publicKey, created: key.created, to: publicURL)
        } catch {
            throw CommandError("\(error)")
        }
        let output = Output(keyId: key.keyId, privateKey: privateURL.path, publicKey: publicURL.path)
        if json {
            print(jsonLine(output))
        } else {
            print("key id \(key.keyId)\nprivate key \(privateURL.path) (mode 0600)\npublic key  \(publicURL.path)")
        }
    }
}
