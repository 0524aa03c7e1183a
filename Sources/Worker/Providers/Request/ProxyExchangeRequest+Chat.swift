import TollgateCore

extension ProxyExchange.Request {
    /// The decoded chat request: the one `RequestParsingFilter` made, or, when a filter
    /// rewrote the body since (a guardrail's redaction), the rewritten body decoded once more
    /// (the spans of the first decode point into bytes that are gone).
    func decodedChat() -> Result<ChatRequest, GatewayError> {
        if let chat { return .success(chat) }
        return ChatRequest.decode(body)
    }
}
