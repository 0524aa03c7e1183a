import Config
import ControlPlaneStore
import Foundation
import Testing
@testable import ControlPlane

/// A data plane's life at the control plane: registered with a one-time token, counted as
/// unreachable after missed polls, and given its own config scope by labels.
@Suite struct DataPlaneLifecycleTests {
    @Test(arguments: TestBackend.allCases)
    func aRegistrationTokenWorksOnceAndExpires(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        let dp = try await h.call("POST", "\(base)/dataplanes", body: ["name": "edge"])
        let dpID = try #require(dp["id"]?.stringValue)
        #expect(try await h.call("POST", "\(base)/dataplanes/\(dpID)/registration-token", token: org.tokens[.developer]).status == 403)
        let issued = try await h.call("POST", "\(base)/dataplanes/\(dpID)/registration-token", token: org.tokens[.operator],
                                      body: ["expires_in_seconds": 600])
        #expect(issued.status == 201, "\(issued.text)")
        let token = try #require(issued["registration_token"]?.stringValue)
        #expect(token.hasPrefix("tgdr_"))
        let shown = try await h.call("GET", "\(base)/dataplanes/\(dpID)")
        #expect(shown["registration"]?["pending"] == true)
        #expect(!shown.text.contains("token_hash"))

        #expect(try await h.call("POST", "/api/v1/dataplanes/\(dpID)/register", token: "tgdr_wrong").status == 401)
        #expect(try await h.call("POST", "/api/v1/dataplanes/dp_unknown/register", token: token).status == 401)
        let registered = try await h.call("POST", "/api/v1/dataplanes/\(dpID)/register", token: token)
        #expect(registered.status == 200, "\(registered.text)")
        let credential = try #require(registered["credential"]?.stringValue)
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential).status == 200)
        // Once only, and the credential from creation is replaced.
        #expect(try await h.call("POST", "/api/v1/dataplanes/\(dpID)/register", token: token).status == 401)
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: try #require(dp["credential"]?.stringValue)).status == 401)
        #expect(try await h.call("GET", "\(base)/dataplanes/\(dpID)")["registration"] == nil)

        // An expired token is refused with its own code.
        let late = try await h.call("POST", "\(base)/dataplanes/\(dpID)/registration-token", body: ["expires_in_seconds": 60])
        h.clock.advance(61_000)
        let expired = try await h.call("POST", "/api/v1/dataplanes/\(dpID)/register", token: try #require(late["registration_token"]?.stringValue))
        #expect(expired.status == 401)
        #expect(expired.errorCode == "registration_expired")

        // The exchange is audited under the data plane's name, with no secret in the log.
        let log = try await h.call("GET", "/api/v1/audit?org=\(org.id)&limit=1000")
        let register = log["items"]?.arrayValue?.first { $0["action"] == "register" }
        #expect(register?["actor"]?.stringValue == "dataplane:\(dpID)")
        #expect(!log.text.contains(token) && !log.text.contains(credential))
        #expect(try await h.call("GET", "/api/v1/audit/verify")["ok"] == true)
    }

    @Test func missedPollsCountAgainstTheReportedInterval() {
        func health(_ elapsed: Int64) -> DataPlaneHealth {
            DataPlaneHealth(lastSeenMs: 1_000, pollIntervalMs: 1_000, unreachableAfterMissedPolls: 3, nowMs: 1_000 + elapsed)
        }
        #expect(health(0).missedPolls == 0)
        #expect(health(1_099).missedPolls == 0, "within the jitter")
        #expect(health(1_100).missedPolls == 1)
        #expect(health(2_099).reachable)
        #expect(health(3_099).missedPolls == 2)
        #expect(health(3_099).reachable)
        #expect(health(3_100).missedPolls == 3)
        #expect(!health(3_100).reachable)
        #expect(DataPlaneHealth(lastSeenMs: 5_000, pollIntervalMs: 1_000, unreachableAfterMissedPolls: 3, nowMs: 0).missedPolls == 0)
    }

    @Test(arguments: TestBackend.allCases)
    func theHeartbeatCarriesThePollInterval(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let dp = try await h.call("POST", "/api/v1/orgs/\(org.id)/dataplanes", body: ["name": "edge"])
        let dpID = try #require(dp["id"]?.stringValue)
        let credential = try #require(dp["credential"]?.stringValue)
        #expect(try await h.call("GET", "/api/v1/orgs/\(org.id)/dataplanes/\(dpID)")["status"]?["missed_polls"] == .null)
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential, headers: ["X-Tollgate-Poll-Interval-Ms": "1000"]).status == 200)
        func status() async throws -> JSONValue? { try await h.call("GET", "/api/v1/orgs/\(org.id)/dataplanes/\(dpID)")["status"] }
        #expect(try await status()?["poll_interval_ms"] == 1000)
        #expect(try await status()?["reachable"] == true)
        h.clock.advance(2_500)
        #expect(try await status()?["missed_polls"] == 2)
        #expect(try await status()?["reachable"] == true)
        h.clock.advance(700)
        #expect(try await status()?["missed_polls"] == 3)
        #expect(try await status()?["reachable"] == false)
        // The next poll is the heartbeat that makes it reachable again.
        #expect(try await h.call("GET", "/api/v1/dataplanes/\(dpID)/config", token: credential, headers: ["X-Tollgate-Poll-Interval-Ms": "1000"]).status == 200)
        #expect(try await status()?["reachable"] == true)
    }

    @Test(arguments: TestBackend.allCases)
    func labelsGiveEachDataPlaneItsOwnScope(_ backend: TestBackend) async throws {
        let h = try await APIHarness(backend)
        defer { Task { await h.stop() } }
        let org = try await h.makeOrg()
        let base = "/api/v1/orgs/\(org.id)"
        var credentials: [String: (String, String)] = [:]
        for region in ["eu", "us"] {
            let dp = try await h.call("POST", "\(base)/dataplanes", body: ["name": .string(region), "labels": ["region": .string(region)]])
            #expect(dp.status == 201, "\(dp.text)")
            #expect(dp["labels"]?["region"] == .string(region))
            credentials[region] = (try #require(dp["id"]?.stringValue), try #require(dp["credential"]?.stringValue))
        }
        for region in ["eu", "us"] {
            let p = try await h.call("POST", "\(base)/providers", body: ["name": .string("openai-\(region)"), "kind": "openai",
                                                                         "base_url": .string("https://\(region).example.com/v1"),
                                                                         "api_key_env": "OPENAI_KEY", "scope": ["region": .string(region)]])
            #expect(p.status == 201, "\(p.text)")
            let m = try await h.call("POST", "\(base)/models", body: ["name": .string("chat-\(region)"), "provider": .string("openai-\(region)"),
                                                                      "upstream_model": "gpt-4o", "scope": ["region": .string(region)]])
            #expect(m.status == 201, "\(m.text)")
        }
        #expect(try await h.call("POST", "\(base)/api-keys", body: ["name": "eu-only", "scope": ["region": "eu"]]).status == 201)
        #expect(try await h.call("POST", "\(base)/api-keys", body: ["name": "everywhere"]).status == 201)

        for (region, other) in [("eu", "us"), ("us", "eu")] {
            let (id, credential) = try #require(credentials[region])
            let reply = try await h.call("GET", "/api/v1/dataplanes/\(id)/config", token: credential)
            #expect(reply.status == 200, "\(reply.text)")
            let config = try ConfigLoader.load(yaml: try #require(reply["config"]?.stringValue), source: "t",
                                               environment: ["OPENAI_KEY": "sk-local"])
            #expect(config.providers.map(\.name) == ["openai-\(region)"])
            #expect(config.models.map(\.name) == ["chat-\(region)"])
            #expect(config.apiKeys.map(\.name) == (region == "eu" ? ["eu-only", "everywhere"] : ["everywhere"]))
            let text = reply["config"]?.stringValue ?? ""
            #expect(text.contains("openai-\(other)") == false, "\(text)")
        }

        // Unscoped, it would reach the us data plane, which has no such provider: refused,
        // naming that data plane.
        let bad = try await h.call("POST", "\(base)/models", body: ["name": "broken", "provider": "openai-eu"])
        #expect(bad.status == 422, "\(bad.text)")
        #expect(bad["error"]?["issues"]?.arrayValue?.contains { $0["path"]?.stringValue?.hasPrefix("dataplane/us: model/broken") == true } == true, "\(bad.text)")
        #expect(try await h.call("POST", "\(base)/dataplanes", body: ["name": "x", "labels": ["bad label": "v"]]).status == 422)
    }
}
