import Testing
@testable import MockProvider

@Suite struct ChatCompletionRequestTests {
    private func parse(_ json: String, defaultModel: String? = nil) throws(OpenAIError) -> ChatCompletionRequest {
        let bytes = Array(json.utf8)
        let result: Result<ChatCompletionRequest, OpenAIError> = bytes.withUnsafeBytes { raw in
            Result { () throws(OpenAIError) in try ChatCompletionRequest.parse(JSONView(bytes: raw), defaultModel: defaultModel) }
        }
        return try result.get()
    }

    private func error(_ json: String) -> OpenAIError? {
        do {
            _ = try parse(json)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsWhatTheMockNeeds() throws {
        let r = try parse("""
            {"model":"m+echo","stream":true,"stream_options":{"include_usage":true,"include_obfuscation":false},
             "max_tokens":50,"max_completion_tokens":5,
             "messages":[{"role":"system","content":"be nice"},{"role":"user","content":"hello mock"}],
             "tools":[{"type":"function","function":{"name":"search","parameters":{}}}]}
            """)
        #expect(r.model == "m+echo" && r.stream && r.includeUsage && !r.includeObfuscation)
        #expect(r.maxTokens == 5, "max_completion_tokens wins over the deprecated max_tokens")
        #expect(r.messageCount == 2)
        #expect(r.firstToolName == "search")
    }

    @Test func promptTokensFollowTheChatOverheadRule() throws {
        // 3 priming + per message 3 + ceil(bytes / 4): "hello mock" is 10 bytes → 3.
        #expect(try parse(#"{"model":"m","messages":[{"role":"user","content":"hello mock"}]}"#).promptTokens == 3 + 3 + 3)
        // Two messages, 7 bytes → 2 and 16 bytes → 4; a name costs 1.
        #expect(try parse(#"{"model":"m","messages":[{"role":"system","content":"be nice"},{"role":"user","name":"u","content":"0123456789abcdef"}]}"#)
                    .promptTokens == 3 + (3 + 2) + (3 + 4 + 1))
        // Content parts: text counts its bytes, an image a flat 85.
        let parts = #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"image_url","image_url":{"url":"data:x"}}]}]}"#
        #expect(try parse(parts).promptTokens == 3 + 3 + 1 + 85)
    }

    @Test func echoTextIsTheLastUserMessage() throws {
        let json = #"{"model":"m","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"u"}},{"type":"text","text":"b\n\"c\""}]}]}"#
        let bytes = Array(json.utf8)
        let text = try bytes.withUnsafeBytes { raw in
            let view = JSONView(bytes: raw)
            return try ChatCompletionRequest.parse(view).lastUserText(view)
        }
        #expect(text == "a b\n\"c\"")
    }

    @Test func azureDeploymentStandsInForAMissingModel() throws {
        #expect(try parse(#"{"messages":[{"role":"user","content":"x"}]}"#, defaultModel: "deploy+echo").model == "deploy+echo")
    }

    @Test func refusesBadRequestsLikeOpenAI() {
        let cases: [(String, String?, String?)] = [
            ("{nope", nil, nil),
            ("[1]", nil, nil),
            (#"{"messages":[]}"#, "model", nil),
            (#"{"model":7,"messages":[]}"#, "model", "invalid_type"),
            (#"{"model":"m"}"#, "messages", "missing_required_parameter"),
            (#"{"model":"m","messages":"hi"}"#, "messages", "invalid_type"),
            (#"{"model":"m","messages":[]}"#, "messages", "empty_array"),
            (#"{"model":"m","messages":["hi"]}"#, "messages[0]", "invalid_type"),
            (#"{"model":"m","messages":[{"content":"hi"}]}"#, "messages[0].role", "missing_required_parameter"),
            (#"{"model":"m","messages":[{"role":"robot","content":"hi"}]}"#, "messages[0].role", "invalid_value"),
            (#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}"#, "max_tokens", "integer_below_min_value"),
            (#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":"5"}"#, "max_tokens", "invalid_type"),
            (#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}"#, "stream", "invalid_type"),
        ]
        for (json, param, code) in cases {
            let e = error(json)
            #expect(e != nil, "accepted \(json)")
            #expect(e?.type == "invalid_request_error")
            #expect(e?.param == param, "\(json): \(e?.message ?? "")")
            #expect(e?.code == code, "\(json): \(e?.message ?? "")")
        }
        #expect(error("{nope")?.message.hasPrefix("We could not parse the JSON body of your request.") == true)
        #expect(error(#"{"model":"m"}"#)?.message == "Missing required parameter: 'messages'.")
    }
}
