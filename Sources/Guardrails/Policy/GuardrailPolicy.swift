/// A named, compiled, immutable set of checks: built once per config generation and shared by
/// every request of that generation.
public struct GuardrailPolicy: Sendable {
    public let name: String
    public let checks: [GuardrailCheck]

    public init(name: String, checks: [GuardrailCheck]) {
        self.name = name
        self.checks = checks
    }

    /// The injection detector every policy shares: its automaton is the same for all.
    public static let sharedInjectionDetector = InjectionDetector()
}
