import Config
import WAF

extension RuntimeConfig {
    /// Compiles the WAF for a config generation, or nil when it is disabled. Runs where
    /// `RuntimeConfig` is built (the reload queue, or worker start-up), never on the loop.
    static func makeWAF(_ config: WAFConfig) throws(RuntimeConfigError) -> WAFEngine? {
        guard config.enabled else { return nil }
        do {
            return try WAFEngine(config: config)
        } catch {
            throw .waf(error.description)
        }
    }
}
