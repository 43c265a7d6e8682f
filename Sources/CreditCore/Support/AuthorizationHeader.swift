/// Reads an HTTP `Authorization` header, for the node's provider tokens and the hub's operator
/// token alike.
public enum AuthorizationHeader {
    /// The credentials the header carries under `scheme`, or `nil` under another scheme.
    ///
    /// The scheme name is case-insensitive and one or more spaces follow it (RFC 9110 §11.4):
    /// `bearer cs_…` is as good as `Bearer cs_…`, as clients written from the standard expect.
    public static func credentials(_ header: String, scheme: String) -> Substring? {
        let name = header.prefix { $0 != " " }
        guard name.count == scheme.count, name.lowercased() == scheme.lowercased(), header.dropFirst(name.count).first == " " else {
            return nil
        }
        return header.dropFirst(name.count).drop { $0 == " " }
    }
}
