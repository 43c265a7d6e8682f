/// Reads an HTTP `Authorization` header: the node's signed requests to the hub, the provider
/// tokens at a node and the hub's operator token alike.
public enum AuthorizationHeader {
    /// The credentials the header carries under `scheme`, or `nil` under another scheme or with
    /// none after it.
    ///
    /// The scheme name is case-insensitive (ASCII) and one or more spaces follow it (RFC 9110
    /// §11.4): `bearer cs_…` is as good as `Bearer cs_…`, as clients written from the standard expect.
    public static func credentials(_ header: String, scheme: String) -> Substring? {
        let name = header.prefix { $0 != " " }
        let rest = header[name.endIndex...]
        guard name.utf8.count == scheme.utf8.count, zip(name.utf8, scheme.utf8).allSatisfy({ lowercase($0) == lowercase($1) }),
              rest.first == " " else { return nil }
        let credentials = rest.drop { $0 == " " }
        return credentials.isEmpty ? nil : credentials
    }

    static func lowercase(_ byte: UInt8) -> UInt8 { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte }
}
