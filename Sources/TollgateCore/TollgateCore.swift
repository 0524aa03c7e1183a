/// TollgateCore holds the small, dependency-light pieces every process role shares: the
/// one-pass JSON scanner the hot path uses instead of Foundation, the error bodies of the API
/// fronts, and the structured log handler. It must not depend on NIO's event loops, on config
/// or on any process role.
public enum TollgateCore {
    /// The version string reported by `tollgate --version` and in `server` headers.
    public static let version = "0.1.0"
}
