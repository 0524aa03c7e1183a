import NIOCore

/// `GET /v1/models` and `GET /v1/models/{id}`: the mock's handful of models, as OpenAI's
/// `ListModelsResponse` and `Model` objects.
enum ModelsEndpoint {
    static let models = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "mock-small"]
    /// A fixed creation time: the list is the same on every call.
    static let created = 1_715_367_049
    static let owner = "tollgate-mock"

    static func list() -> MockReply {
        var b = ByteBufferAllocator().buffer(capacity: 96 * models.count + 32)
        b.writeStaticString("{\"object\":\"list\",\"data\":[")
        for (i, id) in models.enumerated() {
            if i > 0 { b.writeStaticString(",") }
            writeModel(id, into: &b)
        }
        b.writeStaticString("]}")
        return .json(.ok, b)
    }

    /// The model `id` (suffixes are controls, not part of the name), or OpenAI's 404.
    static func retrieve(_ id: String) -> MockReply {
        let base = id.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? id
        guard models.contains(base) else {
            return OpenAIError.invalidRequest("The model '\(id)' does not exist or you do not have access to it.",
                                              code: "model_not_found").reply(.notFound)
        }
        var b = ByteBufferAllocator().buffer(capacity: 128)
        writeModel(base, into: &b)
        return .json(.ok, b)
    }

    private static func writeModel(_ id: String, into b: inout ByteBuffer) {
        b.writeStaticString("{\"id\":")
        b.writeJSONString(id)
        b.writeStaticString(",\"object\":\"model\",\"created\":")
        b.writeJSONInt(created)
        b.writeStaticString(",\"owned_by\":")
        b.writeJSONString(owner)
        b.writeStaticString("}")
    }
}
