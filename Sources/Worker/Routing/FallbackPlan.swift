/// The shape of a route as the fallback state machine sees it: for each priority, the weights
/// of its backends. Keeping the machine on plain integers makes it pure and trivially testable.
public struct FallbackPlan: Sendable, Equatable {
    public var priorities: [[Int]]
    public var maxAttempts: Int

    public init(priorities: [[Int]], maxAttempts: Int) {
        self.priorities = priorities
        self.maxAttempts = maxAttempts
    }

    /// A backend's position in the plan.
    public struct BackendRef: Hashable, Sendable, CustomStringConvertible {
        public var priority: Int
        public var index: Int
        public init(priority: Int, index: Int) {
            self.priority = priority
            self.index = index
        }
        public var description: String { "p\(priority)[\(index)]" }
    }
}
