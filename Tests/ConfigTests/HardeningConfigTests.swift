import Foundation
import Testing
@testable import Config

/// The request-path limits, the admin listener and `forward_query`: defaults, bounds, errors.
@Suite struct HardeningConfigTests {
    static func yaml(limits: String = "", admin: String = "", route: String = "") -> String {
        """
        version: 1
        listeners: [{address: 0.0.0.0, port: 8080}]
        \(limits)
        \(admin)
        providers:
          - name: openai
            kind: openai
            base_url: https://api.openai.com/v1/
            api_key_env: OPENAI_API_KEY
        routes:
          - name: r
            priorities: [{backends: [{provider: openai, model: gpt-4o-mini}]}]
        \(route)
        models:
          - name: gpt-4o-mini
            route: r
        """
    }

    private func load(_ yaml: String) throws(ConfigLoadError) -> GatewayConfig {
        try ConfigLoader.load(yaml: yaml, source: "test.yaml", environment: ["OPENAI_API_KEY": "sk-x"])
    }

    private func messages(_ yaml: String) -> [String] {
        do {
            _ = try load(yaml)
            Issue.record("expected the config to be rejected")
            return []
        } catch {
            return error.issues.map { "\($0.path): \($0.message)" }
        }
    }

    @Test func defaultsAreSafe() throws {
        let config = try load(Self.yaml())
        #expect(config.limits.maxSSELineBytes == 4 * 1024 * 1024)
        #expect(config.limits.maxEventFrameBytes == 4 * 1024 * 1024)
        #expect(config.limits.maxRefusedBodyBytes == 64 * 1024)
        #expect(config.admin == nil, "no admin listener unless configured: no metrics endpoint")
        #expect(config.routes.first?.forwardQuery == false)
    }

    @Test func limitsAreParsedAndBounded() throws {
        let config = try load(Self.yaml(limits: "limits: {max_sse_line_bytes: 1MiB, max_event_frame_bytes: 512KiB, max_refused_body_bytes: 0x10}"
            .replacingOccurrences(of: "0x10", with: "16KiB")))
        #expect(config.limits.maxSSELineBytes == 1024 * 1024 && config.limits.maxEventFrameBytes == 512 * 1024
                && config.limits.maxRefusedBodyBytes == 16 * 1024)
        let tooBig = messages(Self.yaml(limits: "limits: {max_event_frame_bytes: 32MiB, max_sse_line_bytes: 1GiB}"))
        #expect(tooBig.contains { $0.hasPrefix("limits.max_event_frame_bytes:") && $0.contains("16 MiB") }, "\(tooBig)")
        #expect(tooBig.contains { $0.hasPrefix("limits.max_sse_line_bytes:") }, "\(tooBig)")
        let zero = messages(Self.yaml(limits: "limits: {max_sse_line_bytes: 0}"))
        #expect(zero.contains { $0.hasPrefix("limits.max_sse_line_bytes:") && $0.contains("greater than zero") }, "\(zero)")
        let overflow = messages(Self.yaml(limits: "limits: {max_refused_body_bytes: 99999999999999999999GiB}"))
        #expect(overflow.contains { $0.hasPrefix("limits.max_refused_body_bytes:") }, "\(overflow)")
    }

    @Test func upstreamPoolLimitsHaveDefaultsAndBounds() throws {
        let defaults = try load(Self.yaml())
        #expect(defaults.limits.maxUpstreamConnectionsPerOrigin == 512 && defaults.limits.maxUpstreamWaitQueue == 1024)
        let set = try load(Self.yaml(limits: "limits: {max_upstream_connections_per_origin: 8, max_upstream_wait_queue: 3}"))
        #expect(set.limits.maxUpstreamConnectionsPerOrigin == 8 && set.limits.maxUpstreamWaitQueue == 3)
        let bad = messages(Self.yaml(limits: "limits: {max_upstream_connections_per_origin: 70000, max_upstream_wait_queue: 0}"))
        #expect(bad.contains { $0.hasPrefix("limits.max_upstream_connections_per_origin:") && $0.contains("60000") }, "\(bad)")
        #expect(bad.contains { $0.hasPrefix("limits.max_upstream_wait_queue:") && $0.contains("greater than zero") }, "\(bad)")
    }

    @Test func adminListenerIsLoopbackByDefaultAndValidated() throws {
        let config = try load(Self.yaml(admin: "admin: {port: 9902}"))
        #expect(config.admin == GatewayConfig.Listener(address: "127.0.0.1", port: 9902))
        let explicit = try load(Self.yaml(admin: "admin: {address: 0.0.0.0, port: 9902}"))
        #expect(explicit.admin?.address == "0.0.0.0")
        #expect(messages(Self.yaml(admin: "admin: {port: 8080}")).contains { $0.hasPrefix("admin.port:") && $0.contains("client listener") })
        #expect(messages(Self.yaml(admin: "admin: {port: 70000}")).contains { $0.hasPrefix("admin.port:") })
        #expect(messages(Self.yaml(admin: "admin: {address: example.com, port: 9902}")).contains { $0.hasPrefix("admin.address:") })
        #expect(messages(Self.yaml(admin: "admin: {address: 127.0.0.1}")).contains { $0.hasPrefix("admin") })
    }

    @Test func forwardQueryIsARouteFlag() throws {
        let yaml = Self.yaml().replacingOccurrences(of: "  - name: r\n", with: "  - name: r\n    forward_query: true\n")
        #expect(try load(yaml).routes.first?.forwardQuery == true)
        let wrong = Self.yaml().replacingOccurrences(of: "  - name: r\n", with: "  - name: r\n    forward_query: sometimes\n")
        #expect(messages(wrong).contains { $0.hasPrefix("routes[0].forward_query:") })
    }
}
