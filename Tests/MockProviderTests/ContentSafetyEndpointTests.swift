import Foundation
import Testing
@testable import MockProvider

/// The mock's Azure AI Content Safety endpoints, driven by markers in the text.
@Suite struct ContentSafetyEndpointTests {
    static let key = [("Ocp-Apim-Subscription-Key", "k")]

    @Test func analyzeReportsMarkedSeveritiesAndBlocklistHits() throws {
        try withMockServer { server throws in
            let path = "/contentsafety/text:analyze?api-version=2024-09-01"
            let r = try server.exchange("POST", path, body: #"{"text":"cs-hate-6 cs-block","categories":["Hate","Violence"],"blocklistNames":["corp"]}"#, headers: Self.key)
            #expect(r.status == 200)
            let json = try r.json()
            let analysis = json["categoriesAnalysis"] as? [[String: Any]] ?? []
            #expect(analysis.map { $0["category"] as? String } == ["Hate", "Violence"])
            #expect(analysis.map { $0["severity"] as? Int } == [6, 0])
            #expect((json["blocklistsMatch"] as? [[String: Any]])?.first?["blocklistName"] as? String == "corp")
            #expect(try server.exchange("POST", path, body: #"{"text":"x"}"#).status == 401)
            #expect(try server.exchange("POST", "/contentsafety/text:analyze", body: #"{"text":"x"}"#, headers: Self.key).status == 404)
            #expect(try server.exchange("POST", path, body: #"{"text":"cs-fault-500"}"#, headers: Self.key).status == 500)
        }
    }

    @Test func shieldPromptFlagsPromptAndDocuments() throws {
        try withMockServer { server throws in
            let path = "/contentsafety/text:shieldPrompt?api-version=2024-09-01"
            let json = try server.exchange("POST", path, body: #"{"userPrompt":"hi","documents":["ok","cs-attack"]}"#, headers: Self.key).json()
            #expect((json["userPromptAnalysis"] as? [String: Any])?["attackDetected"] as? Bool == false)
            #expect((json["documentsAnalysis"] as? [[String: Any]])?.map { $0["attackDetected"] as? Bool } == [false, true])
        }
    }
}
