import ControlPlaneStore
import Foundation
import Testing
@testable import ControlPlane

/// The served OpenAPI document describes the routes the server has: every documented
/// operation reaches a handler (never the router's "no such endpoint"), with real ids.
@Suite struct OpenAPITests {
    @Test func everyDocumentedOperationExists() async throws {
        let h = try await APIHarness(.sqlite)
        defer { Task { await h.stop() } }
        let served = try await h.call("GET", "/api/v1/openapi.json", token: nil)
        #expect(served.status == 200)
        #expect(served["openapi"] == "3.1.0")
        #expect(served.json == OpenAPIDocument.document)

        let org = try await h.makeOrg()
        var ids: [String: String] = [:]
        for kind in ResourceKind.allCases {
            let list = try await h.call("GET", "/api/v1/orgs/\(org.id)/\(kind.collection)")
            if let id = list["items"]?.arrayValue?.first?["id"]?.stringValue { ids[kind.collection] = id }
        }
        ids["api-keys"] = try await h.call("POST", "/api/v1/orgs/\(org.id)/api-keys", body: ["name": "k"])["id"]?.stringValue
        ids["dataplanes"] = try await h.call("POST", "/api/v1/orgs/\(org.id)/dataplanes", body: ["name": "dp"])["id"]?.stringValue
        #expect(OpenAPIDocument.operations.count > 40)
        for (method, template) in OpenAPIDocument.operations {
            var path = template.replacingOccurrences(of: "{org}", with: org.id).replacingOccurrences(of: "{token}", with: "pat_none")
            if let collection = ResourceKind.allCases.map(\.collection).first(where: { template.contains("/\($0)/{id}") }) {
                path = path.replacingOccurrences(of: "{id}", with: ids[collection] ?? "missing")
            }
            path = path.replacingOccurrences(of: "{id}", with: ids["dataplanes"] ?? "missing")
            let reply = try await h.call(method, path, body: ["POST", "PUT"].contains(method) ? ["name": "x"] : nil)
            #expect(reply.status != 405, "\(method) \(template): \(reply.text)")
            #expect(reply["error"]?["message"]?.stringValue?.hasPrefix("no such endpoint") != true, "\(method) \(template): \(reply.text)")
        }
    }
}
