/// Prices of well-known upstream models, in USD per million tokens, as published by the
/// providers (list prices, standard tier, prompts under any long-context surcharge). Users
/// override or extend them with the config's `pricing:` section; a model with no price still
/// reports its tokens, just no cost.
public enum ModelCatalog {
    public static let builtIn: [String: GatewayConfig.ModelPrice] = [
        // OpenAI
        "gpt-4o": .init(inputPerMillion: 2.50, outputPerMillion: 10.00, cachedInputPerMillion: 1.25),
        "gpt-4o-mini": .init(inputPerMillion: 0.15, outputPerMillion: 0.60, cachedInputPerMillion: 0.075),
        "gpt-4.1": .init(inputPerMillion: 2.00, outputPerMillion: 8.00, cachedInputPerMillion: 0.50),
        "gpt-4.1-mini": .init(inputPerMillion: 0.40, outputPerMillion: 1.60, cachedInputPerMillion: 0.10),
        "gpt-4.1-nano": .init(inputPerMillion: 0.10, outputPerMillion: 0.40, cachedInputPerMillion: 0.025),
        "o3-mini": .init(inputPerMillion: 1.10, outputPerMillion: 4.40, cachedInputPerMillion: 0.55),
        "o4-mini": .init(inputPerMillion: 1.10, outputPerMillion: 4.40, cachedInputPerMillion: 0.275),
        "text-embedding-3-small": .init(inputPerMillion: 0.02, outputPerMillion: 0, cachedInputPerMillion: nil),
        "text-embedding-3-large": .init(inputPerMillion: 0.13, outputPerMillion: 0, cachedInputPerMillion: nil),
        // Anthropic (cached = cache reads)
        "claude-opus-4-1": .init(inputPerMillion: 15.00, outputPerMillion: 75.00, cachedInputPerMillion: 1.50),
        "claude-sonnet-4-5": .init(inputPerMillion: 3.00, outputPerMillion: 15.00, cachedInputPerMillion: 0.30),
        "claude-sonnet-4": .init(inputPerMillion: 3.00, outputPerMillion: 15.00, cachedInputPerMillion: 0.30),
        "claude-haiku-4-5": .init(inputPerMillion: 1.00, outputPerMillion: 5.00, cachedInputPerMillion: 0.10),
        "claude-3-5-haiku": .init(inputPerMillion: 0.80, outputPerMillion: 4.00, cachedInputPerMillion: 0.08),
        // Google
        "gemini-2.5-pro": .init(inputPerMillion: 1.25, outputPerMillion: 10.00, cachedInputPerMillion: 0.31),
        "gemini-2.5-flash": .init(inputPerMillion: 0.30, outputPerMillion: 2.50, cachedInputPerMillion: 0.075),
    ]

    /// The price of `model`: an exact entry, else the longest entry it extends with a dated or
    /// versioned suffix (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, `claude-3-5-haiku-20241022`).
    public static func price(for model: String, in table: [String: GatewayConfig.ModelPrice]) -> GatewayConfig.ModelPrice? {
        if let exact = table[model] { return exact }
        var best: (String, GatewayConfig.ModelPrice)?
        for (name, price) in table where model.hasPrefix(name + "-") || model.hasPrefix(name + "@") {
            if best.map({ name.count > $0.0.count }) ?? true { best = (name, price) }
        }
        return best?.1
    }
}

extension GatewayConfig {
    /// USD per million tokens.
    public struct ModelPrice: Codable, Sendable, Equatable {
        public var inputPerMillion: Double
        public var outputPerMillion: Double
        /// Price of cached prompt tokens (OpenAI cached input, Anthropic cache reads); nil = same as input.
        public var cachedInputPerMillion: Double?

        public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double?) {
            self.inputPerMillion = inputPerMillion
            self.outputPerMillion = outputPerMillion
            self.cachedInputPerMillion = cachedInputPerMillion
        }

        /// The cost of one response's tokens in USD.
        public func cost(promptTokens: Int, completionTokens: Int, cachedTokens: Int) -> Double {
            let cached = max(0, min(cachedTokens, promptTokens))
            let fresh = Double(promptTokens - cached) * inputPerMillion
            let reused = Double(cached) * (cachedInputPerMillion ?? inputPerMillion)
            return (fresh + reused + Double(completionTokens) * outputPerMillion) / 1_000_000
        }
    }
}
