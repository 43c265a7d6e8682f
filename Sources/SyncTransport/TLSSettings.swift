public import NIOSSL

/// TLS for the node–hub link: TLS 1.2 at least; the hub may require client certificates
/// (mutual TLS) issued by the province's CA, in addition to the signatures every message carries.
public enum TLSSettings {
    /// The hub's server configuration. With `clientCA`, a client without a certificate issued by
    /// that CA is refused during the handshake.
    public static func server(certificate: String, privateKey: String, clientCA: String?) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem)))
        config.minimumTLSVersion = .tlsv12
        if let clientCA {
            config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA))
            config.certificateVerification = .noHostnameVerification
        }
        return config
    }

    /// A node's client configuration: trust the province's CA, present the node's certificate
    /// when it has one.
    public static func client(ca: String?, certificate: String?, privateKey: String?) throws -> TLSConfiguration {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv12
        if let ca { config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
        if let certificate, let privateKey {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: privateKey, format: .pem))
        }
        return config
    }
}
