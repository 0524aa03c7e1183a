import Foundation
import NIOCore
import Testing
import TollgateCore
@testable import Worker

@Suite struct SigV4Tests {
    let credentials = SigV4Signer.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: nil)

    /// AWS's published SigV4 test suite, `get-vanilla`.
    @Test func awsTestSuiteGetVanilla() {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: "service")
        let headers = signer.sign(method: "GET", path: "/", query: "", headers: [("Host", "example.amazonaws.com")], payload: [], amzDate: "20150830T123600Z")
        #expect(headers.first { $0.0 == "authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    /// A Bedrock Converse POST with a session token and an encoded model id, signed by botocore
    /// (SigV4Auth, same inputs) to cross-check payload hashing, double-encoded paths and tokens.
    @Test func bedrockConversePostMatchesBotocore() {
        var creds = credentials
        creds.sessionToken = "SESSIONTOKEN"
        let signer = SigV4Signer(credentials: creds, region: "us-east-1", service: "bedrock")
        let headers = signer.sign(method: "POST", path: "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", query: "",
                                  headers: [("host", "bedrock-runtime.us-east-1.amazonaws.com"), ("Content-Type", "application/json")],
                                  payload: Array(#"{"messages":[]}"#.utf8), amzDate: "20150830T123600Z")
        #expect(headers.first { $0.0 == "x-amz-security-token" }?.1 == "SESSIONTOKEN")
        #expect(headers.first { $0.0 == "authorization" }?.1
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=5ef463fd4fa22a4d1f7f6d07e0ffe7018c266beca1196454aeffcc62e81657eb")
    }

    @Test func canonicalPiecesAndDates() {
        #expect(SigV4Signer.canonicalQuery("b=2&a=z%20y&a=x") == "a=x&a=z%20y&b=2")
        #expect(SigV4Signer.canonicalPath("/model/a%3Ab/converse") == "/model/a%253Ab/converse")
        #expect(SigV4Signer.amzDate(now: 1_440_938_160) == "20150830T123600Z")
    }
}

@Suite struct EventStreamTests {
    @Test func framesRoundTripAcrossSplitReads() throws {
        let frames = EventStreamDecoder.encode(headers: [(":event-type", "messageStart"), (":message-type", "event")], payload: Array(#"{"role":"assistant"}"#.utf8))
            + EventStreamDecoder.encode(headers: [(":event-type", "metadata")], payload: Array(#"{"usage":{}}"#.utf8))
        var decoder = EventStreamDecoder()
        var messages: [EventStreamDecoder.Message] = []
        for byte in frames { messages += try decoder.feed([byte]) }
        #expect(messages.count == 2)
        #expect(messages[0].headers[":event-type"] == "messageStart" && messages[0].payload == Array(#"{"role":"assistant"}"#.utf8))
        #expect(messages[1].headers[":event-type"] == "metadata")
    }

    @Test func corruptFramesAreRefused() {
        var frame = EventStreamDecoder.encode(headers: [(":event-type", "x")], payload: Array("{}".utf8))
        frame[frame.count - 6] ^= 0xFF
        var decoder = EventStreamDecoder()
        #expect(throws: EventStreamDecoder.DecodeError.messageChecksum) { try decoder.feed(frame) }
        var prelude = EventStreamDecoder.encode(headers: [], payload: [])
        prelude[9] ^= 0x01
        var d2 = EventStreamDecoder()
        #expect(throws: EventStreamDecoder.DecodeError.preludeChecksum) { try d2.feed(prelude) }
        #expect(CRC32.checksum(Array("123456789".utf8)[...]) == 0xCBF4_3926, "the CRC-32 check value")
    }
}

@Suite struct BedrockTranslationTests {
    @Test func requestBecomesConverse() {
        let json = #"""
        {"model":"m","messages":[{"role":"system","content":"Sys"},{"role":"user","content":"Hi"},
          {"role":"assistant","content":"ok","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},
          {"role":"tool","tool_call_id":"t1","content":"res"}],
         "max_tokens":9,"temperature":0.2,"stop":"X","tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto"}
        """#
        guard case .success(let out) = TranslationHarness.bedrock(json) else { Issue.record("expected success"); return }
        #expect((out["system"] as? [[String: String]]) == [["text": "Sys"]])
        let turns = out["messages"] as? [[String: Any]] ?? []
        #expect(turns.map { $0["role"] as? String } == ["user", "assistant", "user"])
        let use = (turns[1]["content"] as? [[String: Any]])?.last?["toolUse"] as? [String: Any]
        #expect(use?["toolUseId"] as? String == "t1" && (use?["input"] as? [String: Int]) == ["a": 1])
        let result = (turns[2]["content"] as? [[String: Any]])?.first?["toolResult"] as? [String: Any]
        #expect(result?["toolUseId"] as? String == "t1")
        let inference = out["inferenceConfig"] as? [String: Any]
        #expect(inference?["maxTokens"] as? Int == 9 && inference?["stopSequences"] as? [String] == ["X"])
        let tools = (out["toolConfig"] as? [String: Any])?["tools"] as? [[String: Any]]
        #expect(((tools?.first?["toolSpec"] as? [String: Any])?["name"] as? String) == "f")
        guard case .failure(let e) = TranslationHarness.bedrock(#"{"model":"m","messages":[],"seed":1}"#) else { Issue.record("seed"); return }
        #expect(e.param == "seed")
    }

    @Test func streamFramesBecomeChunks() {
        func frame(_ type: String, _ json: String) -> [UInt8] {
            EventStreamDecoder.encode(headers: [(":event-type", type), (":message-type", "event")], payload: Array(json.utf8))
        }
        let bytes = frame("messageStart", #"{"role":"assistant"}"#) + frame("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hey"}}"#)
            + frame("contentBlockStart", #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tu1","name":"f"}}}"#)
            + frame("contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"a\":1}"}}}"#)
            + frame("messageStop", #"{"stopReason":"tool_use"}"#) + frame("metadata", #"{"usage":{"inputTokens":5,"outputTokens":2}}"#)
        let t = BedrockResponseTranslator(publicModel: "bm", includeUsage: true, price: nil)
        var out: [UInt8] = []
        for start in stride(from: 0, to: bytes.count, by: 13) { out += t.translateChunk(ByteBuffer(bytes: Array(bytes[start..<min(start + 13, bytes.count)]))) }
        out += t.finishStream()
        let text = String(decoding: out, as: UTF8.self)
        #expect(text.contains("\"delta\":{\"content\":\"Hey\"}"))
        #expect(text.contains("\"id\":\"tu1\"") && text.contains("\"arguments\":\"{\\\"a\\\":1}\""))
        #expect(text.contains("\"finish_reason\":\"tool_calls\""))
        #expect(text.contains("\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2"))
        #expect(text.hasSuffix("data: [DONE]\n\n"))
        let broken = BedrockResponseTranslator(publicModel: "bm", includeUsage: false, price: nil)
        let err = broken.translateChunk(ByteBuffer(bytes: EventStreamDecoder.encode(headers: [(":message-type", "exception"), (":exception-type", "throttlingException")],
                                                                                   payload: Array(#"{"message":"slow down"}"#.utf8))))
        #expect(String(decoding: err, as: UTF8.self).contains("throttlingException: slow down"))
        #expect(broken.finishStream().isEmpty)
    }

    /// A corrupt frame after a good one in the same read: the good one's text still reaches the
    /// client, before the error event, exactly as when the two arrive in separate reads.
    @Test func contentBeforeACorruptFrameIsRelayedWhateverTheReads() {
        let good = EventStreamDecoder.encode(headers: [(":event-type", "contentBlockDelta"), (":message-type", "event")],
                                             payload: Array(#"{"contentBlockIndex":0,"delta":{"text":"Hey"}}"#.utf8))
        var corrupt = EventStreamDecoder.encode(headers: [(":event-type", "metadata"), (":message-type", "event")],
                                                payload: Array(#"{"usage":{"inputTokens":5}}"#.utf8))
        corrupt[corrupt.count - 6] ^= 0x01
        let once = BedrockResponseTranslator(publicModel: "bm", includeUsage: false, price: nil)
        let whole = String(decoding: once.translateChunk(ByteBuffer(bytes: good + corrupt)), as: UTF8.self)
        let twice = BedrockResponseTranslator(publicModel: "bm", includeUsage: false, price: nil)
        let split = String(decoding: twice.translateChunk(ByteBuffer(bytes: good)) + twice.translateChunk(ByteBuffer(bytes: corrupt)), as: UTF8.self)
        for out in [whole, split] {
            guard let text = out.range(of: "\"content\":\"Hey\""), let error = out.range(of: "upstream_stream_error") else {
                Issue.record("expected the text and then the error event: \(out)")
                continue
            }
            #expect(text.upperBound <= error.lowerBound)
            #expect(out.components(separatedBy: "data: ").count == 3, "one content chunk and one error event: \(out)")
        }
        #expect(once.finishStream().isEmpty, "the stream is over after the error")

        // A stream that ends inside a frame ends with the error event, not a clean [DONE].
        let cut = BedrockResponseTranslator(publicModel: "bm", includeUsage: false, price: nil)
        _ = cut.translateChunk(ByteBuffer(bytes: good + good.prefix(20)))
        let end = String(decoding: cut.finishStream(), as: UTF8.self)
        #expect(end.contains("ended inside a frame") && !end.contains("[DONE]"), "\(end)")
        #expect(cut.streamFailure != nil)
    }
}
