import Foundation
import NIOCore

/// Runs a daemon whose listeners are `addresses`: a listener that cannot bind fails the start
/// with the address and the reason in words, where NIO's error named neither
/// ("bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)").
func listening(on addresses: String, _ run: () async throws -> Void) async throws {
    do { try await run() } catch let error as IOError where [EADDRINUSE, EADDRNOTAVAIL, EACCES].contains(error.errnoCode) {
        throw CommandError("cannot listen on \(addresses): \(String(cString: strerror(error.errnoCode)))"
                           + (error.errnoCode == EADDRINUSE ? " (another process has the port: another daemon, or a client's outgoing connection)" : ""))
    }
}
