extension GatewayConfig {
    /// What the catalog knows of one upstream model: its price, its limits and what it can do.
    /// Every field is optional; an unknown model is served all the same, just without a cost.
    public struct ModelInfo: Codable, Sendable, Equatable {
        public var price: ModelPrice?
        public var contextWindow: Int?
        public var maxOutputTokens: Int?
        /// Empty means "not stated": nothing is refused on its account.
        public var capabilities: Set<Capability>

        public init(price: ModelPrice? = nil, contextWindow: Int? = nil, maxOutputTokens: Int? = nil, capabilities: Set<Capability> = []) {
            self.price = price
            self.contextWindow = contextWindow
            self.maxOutputTokens = maxOutputTokens
            self.capabilities = capabilities
        }

        /// Whether the model is known not to serve `capability` (an entry that states its
        /// capabilities and leaves this one out).
        public func lacks(_ capability: Capability) -> Bool {
            !capabilities.isEmpty && !capabilities.contains(capability)
        }
    }

    public enum Capability: String, Codable, Sendable, CaseIterable, Comparable {
        case chat, embeddings, tools, vision
        case jsonMode = "json_mode"
        case reasoning

        public static func < (a: Capability, b: Capability) -> Bool { a.rawValue < b.rawValue }
    }
}
