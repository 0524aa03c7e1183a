/// The model catalog: per upstream model, list prices (USD per million tokens), context window,
/// output limit and capabilities. The built-in catalog is data (`builtInYAML`, the same format
/// as a user's `catalog_file:`); a config's `catalog_file:` replaces entries by name and its
/// `pricing:` overrides prices last. A model with no entry still reports its tokens, just no
/// cost.
public enum ModelCatalog {
    /// The shipped catalog, parsed once. Its text is checked by a test; a mistake in it would
    /// otherwise only show as missing prices.
    public static let builtIn: [String: GatewayConfig.ModelInfo] = {
        var reader = CatalogReader()
        return reader.read(yaml: builtInYAML)
    }()

    /// Problems in the shipped catalog text (empty; a test keeps it so).
    static var builtInIssues: [ConfigIssue] {
        var reader = CatalogReader()
        _ = reader.read(yaml: builtInYAML)
        return reader.reader.issues
    }

    /// The entry for `model`: exact, else the longest entry it extends with a dated or
    /// versioned suffix (`isVersionSuffix`: `gpt-4o-mini-2024-07-18` → `gpt-4o-mini`, Vertex AI's
    /// `claude-3-5-haiku@20241022`, `titan-embed-text-v2:0`), also after dropping Bedrock's
    /// cross-region and vendor prefixes (`us.anthropic.claude-sonnet-4-20250514-v1:0` →
    /// `claude-sonnet-4`).
    public static func info(for model: String, in table: [String: GatewayConfig.ModelInfo]) -> GatewayConfig.ModelInfo? {
        if let found = longestMatch(model, in: table) { return found }
        let stripped = bedrockBaseName(model)
        return stripped == model ? nil : longestMatch(stripped, in: table)
    }

    public static func price(for model: String, in table: [String: GatewayConfig.ModelInfo]) -> GatewayConfig.ModelPrice? {
        info(for: model, in: table)?.price
    }

    private static func longestMatch(_ model: String, in table: [String: GatewayConfig.ModelInfo]) -> GatewayConfig.ModelInfo? {
        if let exact = table[model] { return exact }
        var best: (String, GatewayConfig.ModelInfo)?
        for (name, info) in table where model.count > name.count && model.hasPrefix(name) && isVersionSuffix(model.dropFirst(name.count)) {
            if best.map({ name.count > $0.0.count }) ?? true { best = (name, info) }
        }
        return best?.1
    }

    /// What may follow a catalog name and still be the same model: `@anything` (Vertex AI),
    /// `:n` (Bedrock), or `-` and a date/version, `latest`, `preview…` or `exp…`. Not other
    /// words: `gpt-4o-audio-preview` is not priced as `gpt-4o`.
    static func isVersionSuffix(_ suffix: Substring) -> Bool {
        guard let first = suffix.first else { return false }
        if first == "@" || first == ":" { return true }
        guard first == "-" else { return false }
        let rest = suffix.dropFirst()
        return rest.first?.isNumber == true || rest == "latest" || rest.hasPrefix("preview") || rest.hasPrefix("exp")
    }

    /// Bedrock ids are `[region.]vendor.model[-version][:n]`; the catalog keys the model part.
    static func bedrockBaseName(_ model: String) -> String {
        var parts = model.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, ["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"].contains(parts[0]) { parts.removeFirst() }
        guard parts.count >= 2, ["anthropic", "amazon", "cohere", "meta", "mistral", "ai21", "deepseek", "writer", "openai", "qwen"].contains(parts[0]) else {
            return model
        }
        return parts.dropFirst().joined(separator: ".")
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
