import Config
import ControlPlaneStore
import Foundation
import Testing
@testable import ControlPlane

/// `control-plane import` / `export`: a gateway YAML goes in (keys keep their hashes) and
/// comes back out compiling to the same gateway config; what the control plane cannot hold is
/// refused by name, and nothing is written then.
@Suite struct ConfigTransferTests {
    static let hash = "sha256:" + String(repeating: "ab", count: 32)
    static let yaml = """
        version: 1
        listeners:
          - {address: 127.0.0.1, port: 8080}
        limits:
          max_body_bytes: 2MiB
        providers:
          - name: local
            kind: openai-compatible
            base_url: http://127.0.0.1:9000/v1
          - name: openai
            kind: openai
            base_url: https://api.openai.com/v1
            api_key_env: OPENAI_API_KEY
        routes:
          - name: chat
            max_attempts: 2
            priorities:
              - backends:
                  - {provider: openai, model: gpt-4o-mini, weight: 3}
                  - {provider: local, model: llama, weight: 1}
              - backends:
                  - {provider: local, model: llama}
        models:
          - {name: gpt-4o-mini, route: chat}
          - {name: llama, provider: local, upstream_model: llama-3.1-8b}
        api_keys:
          - name: app
            key_hash: "\(hash)"
            team: analytics
            models: [gpt-4o-mini]
            limits: {requests_per_minute: 60}
        quotas:
          teams:
            - name: analytics
              limits: {usd_per_day: 5}
        guardrails:
          default: [baseline]
          policies:
            - name: baseline
              checks:
                - {type: injection, action: block}
        """

    @Test(arguments: TestBackend.allCases)
    func aGatewayFileRoundTrips(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { Task { await store.close(); withExtendedLifetime(dir) {} } }
        let env = ["OPENAI_API_KEY": "sk-test"]
        let original = try ConfigLoader.load(yaml: Self.yaml, source: "original", environment: env)

        let report = try await ConfigTransfer.importYAML(Self.yaml, source: "gateway.yaml", into: store, orgName: "acme", dataplaneName: "main",
                                                         nowMs: 1_800_000_000_000)
        #expect(report.created.count == 9, "\(report.created)")
        #expect(report.dataplane?.registrationToken.hasPrefix("tgdr_") == true)
        let keys = try await store.resources(kind: "api-key", orgID: report.orgID, limit: 10, after: nil).items
        #expect(keys.first?.body["key_hash"]?.stringValue == Self.hash)

        let exported = try await ConfigTransfer.exportYAML(from: store, orgName: "acme", dataplaneName: "main", nowMs: 1_800_000_000_000)
        let back = try ConfigLoader.load(yaml: exported, source: "exported", environment: env)
        #expect(back == original)

        // The import is audited under the file's name.
        let log = try await store.auditEntries(orgID: report.orgID, afterSeq: 0, limit: 100)
        #expect(log.count == 10)
        #expect(log.allSatisfy { $0.actor == "import:gateway.yaml" })
        #expect(!log.contains { ($0.after ?? "").contains(Self.hash) })

        // A second import of the same file would collide: refused, nothing written.
        await #expect(throws: ConfigTransfer.Failure.self) {
            _ = try await ConfigTransfer.importYAML(Self.yaml, source: "again.yaml", into: store, orgName: "acme", dataplaneName: nil, nowMs: 1)
        }
        #expect(try await store.auditEntries(orgID: report.orgID, afterSeq: 0, limit: 100).count == 10)
    }

    @Test func whatTheControlPlaneCannotHoldIsRefusedByName() throws {
        #expect(throws: ConfigTransfer.Failure.self) { try ConfigTransfer.items(try ConfigTransfer.tree(yaml: "version: 1\nwaf: {enabled: true}\n")) }
        do {
            _ = try ConfigTransfer.items(try ConfigTransfer.tree(yaml: "version: 1\nquotas: {redis: {url: redis://x}}\n"))
            Issue.record("quotas.redis was accepted")
        } catch {
            #expect(error.description.contains("redis"))
        }
        do {
            _ = try ConfigTransfer.items(try ConfigTransfer.tree(yaml: "version: 1\napi_keys: [{name: k}]\n"))
            Issue.record("a key without a hash was accepted")
        } catch {
            #expect(error.description.contains("key_hash"))
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anInvalidFileWritesNothing(_ backend: TestBackend) async throws {
        let (store, dir) = try await backend.makeStore()
        defer { Task { await store.close(); withExtendedLifetime(dir) {} } }
        let broken = Self.yaml.replacingOccurrences(of: "{name: gpt-4o-mini, route: chat}", with: "{name: gpt-4o-mini, route: nowhere}")
        do {
            _ = try await ConfigTransfer.importYAML(broken, source: "broken.yaml", into: store, orgName: "acme", dataplaneName: nil, nowMs: 1)
            Issue.record("an unknown route was accepted")
        } catch let failure as ConfigTransfer.Failure {
            #expect(failure.description.contains("nowhere"), "\(failure)")
        }
        let org = try await store.organizations(limit: 10, after: nil).items.first
        #expect(try await store.allResources(orgID: try #require(org).id).isEmpty)
    }
}
