#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import TollgateCore

/// Throughput of each provider translator on one core, for `tollgate providers-bench`:
/// request translation (client body → upstream body, the whole `ChatRequest` decode included) on an ~8 KB and a
/// ~100 KB coding-agent turn, and response translation of a 200-event stream (fed in 512-byte
/// reads, as a connection delivers it). Time is the thread's CPU time, so a loaded machine
/// slows the wall clock but not the numbers.
public enum ProvidersBenchmark {
    public struct Measurement: Sendable {
        public var name: String
        public var bytesPerRun: Int
        public var iterations: Int
        public var seconds: Double
        public var runsPerSecond: Double { Double(iterations) / seconds }
        public var megabytesPerSecond: Double { Double(bytesPerRun * iterations) / seconds / 1_000_000 }
    }

    struct Case {
        var name: String
        var input: [UInt8]
        /// One translation; returns a byte count so the work cannot be optimised away.
        var run: ([UInt8]) -> Int
    }

    public static func run(seconds: Double = 1, filter: String? = nil) -> [Measurement] {
        cases().filter { c in filter.map { c.name.contains($0) } ?? true }.map { measure($0, seconds: seconds) }
    }

    static func cases() -> [Case] {
        var out: [Case] = []
        for (label, size, tools) in [("8KB", 8 * 1024, 4), ("100KB", 100 * 1024, 40)] {
            let chat = ProvidersBenchInputs.agentRequest(bytes: size, tools: tools)
            out.append(Case(name: "request anthropic \(label)", input: chat) { body in
                (try? ChatRequest.decode(body).flatMap { AnthropicRequestTranslator.translate($0, upstreamModel: "claude") }.get())?.count ?? 0
            })
            out.append(Case(name: "request gemini \(label)", input: chat) { body in
                (try? ChatRequest.decode(body).flatMap { GeminiRequestTranslator.translate($0) }.get())?.count ?? 0
            })
            out.append(Case(name: "request bedrock \(label)", input: chat) { body in
                (try? ChatRequest.decode(body).flatMap { BedrockConverseTranslator.translate($0) }.get())?.count ?? 0
            })
            let messages = ProvidersBenchInputs.anthropicRequest(bytes: size, tools: tools)
            out.append(Case(name: "request anthropic-front→openai \(label)", input: messages) { body in
                (try? AnthropicToOpenAIRequest.translate(body, upstreamModel: "gpt").get())?.count ?? 0
            })
        }
        out.append(streamCase("stream anthropic 200 events", ProvidersBenchInputs.anthropicStream()) {
            AnthropicResponseTranslator(publicModel: "m", includeUsage: true)
        })
        out.append(streamCase("stream gemini 200 events", ProvidersBenchInputs.geminiStream()) {
            GeminiResponseTranslator(publicModel: "m", includeUsage: true, price: nil)
        })
        out.append(streamCase("stream bedrock 200 events", ProvidersBenchInputs.bedrockStream()) {
            BedrockResponseTranslator(publicModel: "m", includeUsage: true, price: nil)
        })
        out.append(streamCase("stream openai→anthropic-front 200 events", ProvidersBenchInputs.openAIStream()) {
            OpenAIToAnthropicResponse(publicModel: "m", price: nil)
        })
        return out
    }

    static func streamCase(_ name: String, _ stream: [UInt8], make: @escaping () -> any ResponseTranslator) -> Case {
        let reads = ProvidersBenchInputs.reads(stream).map { ByteBuffer(bytes: $0) }
        return Case(name: name, input: stream) { _ in
            let t = make()
            var n = 0
            for r in reads { n &+= t.translateChunk(r).count }
            return n &+ t.finishStream().count
        }
    }

    static func measure(_ c: Case, seconds: Double) -> Measurement {
        var sink = c.run(c.input)  // warm-up, and proof the case produces output
        var iterations = 0
        let start = threadCPUTime()
        var elapsed = 0.0
        while elapsed < seconds {
            for _ in 0..<4 {
                sink &+= c.run(c.input)
                iterations += 1
            }
            elapsed = threadCPUTime() - start
        }
        precondition(sink > 0, "benchmark case \(c.name) produced no output")
        return Measurement(name: c.name, bytesPerRun: c.input.count, iterations: iterations, seconds: elapsed)
    }

    static func threadCPUTime() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
