import TollgateCore

/// Builds the mock's OpenAI-shaped bodies by appending bytes: the mock is the upstream of the
/// benchmark, so it must cost far less per request than the gateway it measures.
enum MockResponses {
    static let words = ["This", "is", "a", "response", "from", "the", "Tollgate", "mock", "provider", "running",
                        "on", "your", "machine", "so", "that", "tests", "and", "benchmarks", "need", "no", "real",
                        "API", "key", "at", "all"]

    /// The reply as tokens: a deterministic word sequence (each token one word, later ones
    /// with a leading space), or the echoed text split at spaces.
    static func tokens(count: Int, echo: String?) -> [String] {
        if let echo {
            var out: [String] = []
            var current = ""
            for ch in echo {
                if ch == " ", !current.isEmpty {
                    out.append(current)
                    current = ""
                }
                current.append(ch)
            }
            if !current.isEmpty { out.append(current) }
            return out
        }
        return (0..<count).map { i in (i == 0 ? "" : " ") + words[i % words.count] }
    }

    static func usage(prompt: Int, completion: Int) -> String {
        "{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),\"total_tokens\":\(prompt + completion),"
            + "\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}"
    }

    static func completion(id: String, created: Int, model: String, content: String, finishReason: String, prompt: Int, completion: Int) -> String {
        "{\"id\":\"\(id)\",\"object\":\"chat.completion\",\"created\":\(created),\"model\":" + JSONWriter.quoted(model)
            + ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + JSONWriter.quoted(content)
            + ",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"\(finishReason)\"}],"
            + "\"usage\":" + usage(prompt: prompt, completion: completion)
            + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_tollgate_mock\"}"
    }

    /// One `data: …\n\n` event of a streamed completion.
    static func chunk(id: String, created: Int, model: String, delta: String?, finishReason: String?, includeUsage: Bool, usage: String? = nil) -> String {
        var s = "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),\"model\":" + JSONWriter.quoted(model)
            + ",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_tollgate_mock\",\"choices\":"
        if let usage {
            s += "[],\"usage\":" + usage
        } else {
            s += "[{\"index\":0,\"delta\":" + (delta ?? "{}") + ",\"logprobs\":null,\"finish_reason\":"
                + (finishReason.map { "\"\($0)\"" } ?? "null") + "}]"
            if includeUsage { s += ",\"usage\":null" }
        }
        return s + "}\n\n"
    }

    static func error(message: String, type: String, code: String?, param: String? = nil) -> String {
        GatewayError(status: 0, type: type, code: code, param: param, message: message).openAIBody
    }
}
