/// What this build is, for `creditsync --version` and the `creditsync_build_info` metric.
public enum BuildInfo {
    /// The release version; a build between releases carries the next one with `-dev`.
    public static let version = "0.9.0-dev"
    /// The wire protocol version (`Protocol/`).
    public static let protocolVersion = "1"
}
