import Testing
@testable import Worker

@Suite struct UpstreamTargetTests {
    @Test func parsesBaseURLs() {
        let a = UpstreamTarget(baseURL: "https://api.openai.com/v1")
        #expect(a == UpstreamTarget(scheme: .https, host: "api.openai.com", port: 443, basePath: "/v1"))
        #expect(a?.hostHeader == "api.openai.com")
        let b = UpstreamTarget(baseURL: "http://127.0.0.1:9901/v1/")
        #expect(b == UpstreamTarget(scheme: .http, host: "127.0.0.1", port: 9901, basePath: "/v1"))
        #expect(b?.hostHeader == "127.0.0.1:9901")
        let c = UpstreamTarget(baseURL: "http://[::1]:8000")
        #expect(c == UpstreamTarget(scheme: .http, host: "::1", port: 8000, basePath: ""))
        #expect(c?.hostHeader == "[::1]:8000")
        #expect(UpstreamTarget(baseURL: "ftp://x") == nil)
        #expect(UpstreamTarget(baseURL: "http://host:99999") == nil)
        #expect(UpstreamTarget(baseURL: "http://:80") == nil)
    }

    @Test func ipLiteralsAreNotSentAsSNI() {
        #expect("10.0.0.1".isIPAddress)
        #expect("::1".isIPAddress)
        #expect(!"api.openai.com".isIPAddress)
        #expect(!"1.2.3".isIPAddress)
    }
}
