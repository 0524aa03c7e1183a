import TollgateCore

/// The inputs `GuardrailBenchmark` scans: an 8 KB chat prompt and a ~100 KB coding-agent
/// request body (the shape perf/bench.py sends: a long system prompt, 40 tool schemas, 30
/// turns), deterministic so runs compare.
extension GuardrailBenchmark {
    /// An ~8 KB chat prompt: prose, code, numbers, dates, versions and a few real PII items.
    public static func samplePrompt(bytes: Int = 8 * 1024) -> [UInt8] {
        let paragraphs = [
            "Please review the following incident report and summarise the customer impact for the weekly status update. ",
            "The outage started on 2024-03-14 at 09:12 UTC after release v2.14.3 was rolled out to 35% of the fleet. ",
            "Error rates on the checkout service peaked at 4.7% and latency p99 went from 180 ms to 2.4 s. ",
            "Contact the on-call engineer at oncall@example.com or +1 415 555 2671 if anything is unclear. ",
            "func handle(_ request: Request) async throws -> Response { let id = request.id; return try await next(id) } ",
            "The customer mentioned their card 4111 1111 1111 1111 was charged twice for order 99381723. ",
            "Server 10.20.30.40 handled most of the retries; build 1.2.3 of the agent did not log them. ",
            "Quarterly numbers: revenue 12,430,221 USD, margin 23.5%, churn 1.9%, NPS 41 across 1,204 responses. ",
        ]
        var out: [UInt8] = []
        var i = 0
        while out.count < bytes {
            out.append(contentsOf: paragraphs[i % paragraphs.count].utf8)
            i += 1
        }
        return Array(out.prefix(bytes))
    }

    /// A ~100 KB OpenAI chat request as a coding agent sends it on every turn: a long system
    /// prompt, 40 tool schemas and 30 turns of code and prose (perf/bench.py's `agent_request`).
    public static func agentRequestBody() -> [UInt8] {
        func q(_ s: String) -> String { JSONWriter.quoted(s) }
        let system = String(repeating: "You are a careful coding assistant working in a large monorepo. Follow the repository's "
            + "conventions, explain each change briefly, run the tests you touch, and prefer small diffs. ", count: 90)
        var tools: [String] = []
        for i in 0..<40 {
            let name = "tool_\(i < 10 ? "0" : "")\(i)_workspace_operation"
            let description = String(repeating: "Operation \(i) on the workspace: reads or edits files, searches symbols, runs a build "
                + "step or a test target, and returns structured output for the next step. ", count: 3)
            tools.append(#"{"type":"function","function":{"name":\#(q(name)),"description":\#(q(description)),"#
                + #""parameters":{"type":"object","required":["path"],"properties":{"#
                + #""path":{"type":"string","description":"Path relative to the repository root."},"#
                + #""pattern":{"type":"string","description":"A literal or a glob to match."},"#
                + #""line_start":{"type":"integer","minimum":1,"description":"First line, 1-based."},"#
                + #""line_end":{"type":"integer","minimum":1,"description":"Last line, inclusive."},"#
                + #""dry_run":{"type":"boolean","description":"Describe the change without applying it."}}}}}"#)
        }
        let snippet = "func handle(_ request: Request) throws -> Response {\n    let body = try decoder.decode(Payload.self, "
            + "from: request.body)\n    return Response(status: .ok, body: encoder.encode(body.summary))\n}\n"
        var messages = [#"{"role":"system","content":\#(q(system))}"#]
        for turn in 0..<30 {
            let user = "Step \(turn): look at Sources/Module\(turn)/Handler.swift and tell me whether the error handling "
                + "matches the rest of the module.\n" + String(repeating: snippet, count: 4)
            let assistant = String(repeating: "In step \(turn) the handler decodes the payload and returns its summary; errors "
                + "propagate to the caller, which matches the module's convention. ", count: 3)
            messages.append(#"{"role":"user","content":\#(q(user))}"#)
            messages.append(#"{"role":"assistant","content":\#(q(assistant))}"#)
        }
        messages.append(#"{"role":"user","content":"Summarise what you found in two sentences."}"#)
        let body = #"{"model":"gpt-4o-mini","messages":[\#(messages.joined(separator: ","))],"#
            + #""tools":[\#(tools.joined(separator: ","))],"max_tokens":64}"#
        return Array(body.utf8)
    }
}
