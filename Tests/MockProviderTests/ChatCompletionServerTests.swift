import Foundation
import Testing
@testable import MockProvider

/// Chat completions over a real socket, against an in-process mock on an ephemeral port.
@Suite struct ChatCompletionServerTests {
    @Test func completionHasOpenAIsShapeFieldForField() throws {
        try withMockServer { server throws in
            let r = try server.chat(chatBody())
            #expect(r.status == 200)
            #expect(r.header("content-type") == "application/json")
            #expect(r.header("x-request-id")?.hasPrefix("req_") == true)
            let j = try r.json()
            #expect(Set(j.keys) == ["id", "object", "created", "model", "choices", "usage", "service_tier", "system_fingerprint"])
            #expect((j["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            #expect(j["object"] as? String == "chat.completion")
            #expect(abs((j["created"] as? Int ?? 0) - Int(Date().timeIntervalSince1970)) < 5)
            #expect(j["model"] as? String == "gpt-4o-mini")
            #expect(j["service_tier"] as? String == "default")
            #expect(j["system_fingerprint"] as? String == "fp_tollgate_mock")
            let choice = try #require(firstChoice(j))
            #expect(Set(choice.keys) == ["index", "message", "logprobs", "finish_reason"])
            #expect(choice["index"] as? Int == 0)
            #expect(choice["logprobs"] is NSNull)
            #expect(choice["finish_reason"] as? String == "stop")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(Set(message.keys) == ["role", "content", "refusal", "annotations"])
            #expect(message["role"] as? String == "assistant")
            #expect(message["refusal"] is NSNull)
            #expect((message["annotations"] as? [Any])?.isEmpty == true)
            #expect(message["content"] as? String == MockText.generated(count: 16).joined())
        }
    }

    @Test func usageAddsUpAndCarriesEveryDetail() throws {
        try withMockServer { server throws in
            let j = try server.chat(chatBody(model: "m+tokens=5")).json()
            let usage = try #require(j["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 9, "3 priming + 3 for the message + 3 for 'hello mock'")
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(usage["total_tokens"] as? Int == 14)
            #expect(usage["prompt_tokens_details"] as? [String: Int] == ["cached_tokens": 0, "audio_tokens": 0])
            #expect(usage["completion_tokens_details"] as? [String: Int] ==
                    ["reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0])
            let content = (firstChoice(j)?["message"] as? [String: Any])?["content"] as? String
            #expect(content == "Hello! This is the Tollgate")
        }
    }

    @Test func idsAreUniquePerCompletion() throws {
        try withMockServer { server throws in
            let a = try server.chat(chatBody()).json()["id"] as? String
            let b = try server.chat(chatBody()).json()["id"] as? String
            #expect(a != nil && a != b)
        }
    }

    @Test func streamIsTheDocumentedEventSequence() throws {
        try withMockServer { server throws in
            let r = try server.chat(chatBody(model: "m+tokens=3", extra: #","stream":true"#))
            #expect(r.status == 200)
            #expect(r.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(r.header("transfer-encoding") == "chunked" && r.header("content-length") == nil)
            #expect(r.text.hasSuffix("data: [DONE]\n\n"))
            #expect(r.text.components(separatedBy: "\n\n").dropLast().allSatisfy { $0.hasPrefix("data: ") })
            let c = try chunks(r)
            #expect(c.count == 1 + 3 + 1, "role, one per token, finish; no usage chunk unless asked")
            let id = c.first?["id"] as? String
            for chunk in c {
                #expect(chunk["object"] as? String == "chat.completion.chunk")
                #expect(chunk["id"] as? String == id)
                #expect(chunk["model"] as? String == "m")
                #expect(chunk["system_fingerprint"] as? String == "fp_tollgate_mock")
                #expect(chunk.keys.contains("usage") == false)
                #expect(chunk["obfuscation"] is String)
                #expect(firstChoice(chunk)?["logprobs"] is NSNull)
            }
            let role = try #require(firstChoice(c[0])?["delta"] as? [String: Any])
            #expect(role["role"] as? String == "assistant" && role["content"] as? String == "" && role["refusal"] is NSNull)
            #expect(firstChoice(c[0])?["finish_reason"] is NSNull)
            #expect(c[1...3].map { (firstChoice($0)?["delta"] as? [String: Any])?.keys.sorted() ?? [] } == [["content"], ["content"], ["content"]])
            let finish = try #require(firstChoice(c[4]))
            #expect((finish["delta"] as? [String: Any])?.isEmpty == true)
            #expect(finish["finish_reason"] as? String == "stop")
        }
    }

    @Test func streamWithIncludeUsageEndsWithTheUsageChunk() throws {
        try withMockServer { server throws in
            let r = try server.chat(chatBody(model: "m+tokens=3", extra: #","stream":true,"stream_options":{"include_usage":true}"#))
            let c = try chunks(r)
            #expect(c.count == 1 + 3 + 1 + 1)
            for chunk in c.dropLast() { #expect(chunk["usage"] is NSNull, "every chunk before the last says usage: null") }
            let last = try #require(c.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(last["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 3 && usage["prompt_tokens"] as? Int == 9 && usage["total_tokens"] as? Int == 12)
            #expect(r.sseData.last == "[DONE]")
        }
    }

    @Test func obfuscationCanBeTurnedOff() throws {
        try withMockServer { server throws in
            let r = try server.chat(chatBody(extra: #","stream":true,"stream_options":{"include_obfuscation":false}"#))
            #expect(try chunks(r).allSatisfy { $0["obfuscation"] == nil })
        }
    }

    @Test func streamedDeltasConcatenateToTheNonStreamedContent() throws {
        try withMockServer { server throws in
            for model in ["gpt-4o-mini", "m+tokens=40", "m+echo"] {
                let plain = try server.chat(chatBody(model: model, content: "echo \\\"me\\\" ü")).json()
                let content = (firstChoice(plain)?["message"] as? [String: Any])?["content"] as? String
                let stream = try server.chat(chatBody(model: model, content: "echo \\\"me\\\" ü", extra: #","stream":true"#))
                let deltas = try chunks(stream).compactMap { (firstChoice($0)?["delta"] as? [String: Any])?["content"] as? String }
                #expect(content != nil && deltas.joined() == content, "\(model)")
            }
        }
    }

    @Test func echoRepliesWithTheLastUserMessage() throws {
        try withMockServer { server throws in
            let body = #"{"model":"gpt-4o-mini+echo","messages":[{"role":"user","content":"first"},{"role":"assistant","content":"ok"},"#
                + #"{"role":"user","content":"The quick brown fox, \"quoted\" and ünïcødé ✓"}]}"#
            let j = try server.chat(body).json()
            #expect(j["model"] as? String == "gpt-4o-mini", "the reply names the model without its controls")
            #expect((firstChoice(j)?["message"] as? [String: Any])?["content"] as? String == "The quick brown fox, \"quoted\" and ünïcødé ✓")
            #expect((j["usage"] as? [String: Any])?["completion_tokens"] as? Int == 8, "one token per word")
            let parts = #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"from"},{"type":"text","text":"parts"}]}]}"#
            let viaHeader = try server.chat(parts, headers: [("x-mock-echo", "true")]).json()
            #expect((firstChoice(viaHeader)?["message"] as? [String: Any])?["content"] as? String == "from parts")
        }
    }

    @Test func maxTokensCutsTheReplyWithFinishReasonLength() throws {
        try withMockServer { server throws in
            for limit in [#""max_tokens":4"#, #""max_completion_tokens":4"#] {
                let j = try server.chat(chatBody(extra: "," + limit)).json()
                #expect(firstChoice(j)?["finish_reason"] as? String == "length")
                #expect((j["usage"] as? [String: Any])?["completion_tokens"] as? Int == 4)
                let c = try chunks(try server.chat(chatBody(extra: "," + limit + #","stream":true"#)))
                #expect(c.compactMap { firstChoice($0)?["finish_reason"] as? String } == ["length"])
                #expect(c.count == 1 + 4 + 1)
            }
            let roomy = try server.chat(chatBody(extra: #","max_tokens":100"#)).json()
            #expect(firstChoice(roomy)?["finish_reason"] as? String == "stop")
        }
    }

    @Test func toolControlCallsTheFirstTool() throws {
        try withMockServer { server throws in
            let body = #"{"model":"m+tool","messages":[{"role":"user","content":"find"}],"tools":[{"type":"function","function":{"name":"search","parameters":{}}}]}"#
            let j = try server.chat(body).json()
            let choice = try #require(firstChoice(j))
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["content"] is NSNull && message["refusal"] is NSNull)
            let call = try #require((message["tool_calls"] as? [[String: Any]])?.first)
            #expect(call["type"] as? String == "function" && (call["id"] as? String)?.hasPrefix("call_") == true)
            #expect((call["function"] as? [String: Any])?["name"] as? String == "search")
            #expect((call["function"] as? [String: Any])?["arguments"] as? String == #"{"query":"mock"}"#)

            let streamed = try chunks(try server.chat(String(body.dropLast()) + #","stream":true}"#))
            let args = streamed.compactMap { ((firstChoice($0)?["delta"] as? [String: Any])?["tool_calls"] as? [[String: Any]])?.first }
                .compactMap { ($0["function"] as? [String: Any])?["arguments"] as? String }.joined()
            #expect(args == #"{"query":"mock"}"#)
            #expect(streamed.compactMap { firstChoice($0)?["finish_reason"] as? String } == ["tool_calls"])
        }
    }

    @Test func badRequestsGetOpenAIErrors() throws {
        try withMockServer { server throws in
            let bad = try server.chat("{nope")
            #expect(bad.status == 400)
            let error = try #require(try bad.json()["error"] as? [String: Any])
            #expect(Set(error.keys) == ["message", "type", "param", "code"])
            #expect(error["type"] as? String == "invalid_request_error" && error["param"] is NSNull && error["code"] is NSNull)

            let missingModel = try server.chat(#"{"messages":[{"role":"user","content":"x"}]}"#)
            #expect(missingModel.status == 400)
            #expect((try missingModel.json()["error"] as? [String: Any])?["param"] as? String == "model")
            let missingMessages = try server.chat(#"{"model":"m"}"#)
            #expect(missingMessages.status == 400)
            #expect((try missingMessages.json()["error"] as? [String: Any])?["param"] as? String == "messages")
            let typo = try server.chat(chatBody(model: "m+fualt=503"))
            #expect(typo.status == 400)
            #expect(((try typo.json()["error"] as? [String: Any])?["message"] as? String)?.contains("fualt") == true)
        }
    }

    @Test func pathsWithoutV1AndUnknownPaths() throws {
        try withMockServer { server throws in
            #expect(try server.exchange("POST", "/chat/completions", body: chatBody()).status == 200)
            let unknown = try server.exchange("GET", "/v1/nothing")
            #expect(unknown.status == 404)
            #expect((try unknown.json()["error"] as? [String: Any])?["message"] as? String == "Invalid URL (GET /v1/nothing)")
            let wrongMethod = try server.exchange("GET", "/v1/chat/completions")
            #expect(wrongMethod.status == 405 && wrongMethod.header("allow") == "POST")
            #expect(try server.exchange("GET", "/healthz").status == 200)
        }
    }
}
