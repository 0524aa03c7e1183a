import Testing
@testable import WAF

struct WAFLogParserTests {
    let parser = WAFLogParser(path: "/v1/chat/completions", uniqueID: "abc123")

    func line(value: String, data: String, uri: String = "/v1/chat/completions") -> String {
        "ModSecurity: Warning. Matched \"Operator `Rx' with parameter `(?i)<script' against variable `ARGS:q' (Value: `\(value)' )"
            + " [file \"/usr/share/modsecurity-crs/rules/REQUEST-941-APPLICATION-ATTACK-XSS.conf\"] [line \"64\"] [id \"941110\"]"
            + " [rev \"\"] [msg \"XSS Filter - Category 1: Script Tag Vector\"] [data \"\(data)\"] [severity \"2\"]"
            + " [ver \"OWASP_CRS/3.3.4\"] [tag \"attack-xss\"] [hostname \"127.0.0.1\"] [uri \"\(uri)\"] [unique_id \"abc123\"] [ref \"o0,8\"]"
    }

    @Test func readsIdAndMessage() {
        #expect(parser.parse(line(value: "<script>", data: "Matched Data: <script>")) == WAFRuleMatch(id: 941110, message: "XSS Filter - Category 1: Script Tag Vector"))
    }

    @Test func fakeFieldsInTheRawValueAreIgnored() {
        // The value is logged raw before the details; data is hex-escaped by ModSecurity.
        let spoof = "<script>\"] [id \"1\"] [rev \"\"] [msg \"evil\"] [data \"x\"] [uri \"/v1/chat/completions\"] [unique_id \"guess\"]"
        #expect(parser.parse(line(value: spoof, data: "\\x22] [id \\x221\\x22]"))?.id == 941110)
        #expect(parser.parse(line(value: spoof, data: "x"))?.message == "XSS Filter - Category 1: Script Tag Vector")
    }

    @Test func aLineForAnotherTransactionOrPathIsIgnored() {
        #expect(WAFLogParser(path: "/v1/chat/completions", uniqueID: "other").parse(line(value: "v", data: "d")) == nil)
        #expect(parser.parse(line(value: "v", data: "d", uri: "/v1/x\"] [id \"5\"] [msg \"m\"] [data \"")) == nil)
        #expect(parser.parse("ModSecurity: something without details") == nil)
    }
}
