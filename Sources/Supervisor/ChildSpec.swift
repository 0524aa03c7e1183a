/// What the supervisor runs: each child is this same executable with a role subcommand.
struct ChildSpec: Sendable, Equatable {
    enum Role: Sendable, Equatable, CustomStringConvertible {
        case controller
        case worker(Int)
        case mockProvider

        var description: String {
            switch self {
            case .controller: return "controller"
            case .worker(let id): return "worker-\(id)"
            case .mockProvider: return "mock-provider"
            }
        }
    }

    var role: Role
    var arguments: [String]
}
