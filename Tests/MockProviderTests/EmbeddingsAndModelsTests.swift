import Foundation
import Testing
@testable import MockProvider

@Suite struct EmbeddingsTests {
    private func vectors(_ r: TestResponse) throws -> [[Double]] {
        (try r.json()["data"] as? [[String: Any]] ?? []).compactMap { $0["embedding"] as? [Double] }
    }

    @Test func floatVectorsAreDeterministicUnitVectors() throws {
        try withMockServer { server throws in
            let r = try server.exchange("POST", "/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":["a","a","b"]}"#)
            #expect(r.status == 200)
            let j = try r.json()
            #expect(Set(j.keys) == ["object", "data", "model", "usage"])
            #expect(j["object"] as? String == "list" && j["model"] as? String == "text-embedding-3-small")
            let data = try #require(j["data"] as? [[String: Any]])
            #expect(data.map { $0["index"] as? Int } == [0, 1, 2])
            #expect(data.allSatisfy { $0["object"] as? String == "embedding" && Set($0.keys) == ["object", "index", "embedding"] })
            let v = try vectors(r)
            #expect(v.count == 3 && v.allSatisfy { $0.count == EmbeddingsRequest.defaultDimensions })
            #expect(v[0] == v[1] && v[0] != v[2])
            for vector in v { #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-3) }
            #expect(j["usage"] as? [String: Int] == ["prompt_tokens": 3, "total_tokens": 3])
            // The same input on another request embeds the same.
            let again = try vectors(try server.exchange("POST", "/v1/embeddings", body: #"{"model":"x","input":"a"}"#))
            #expect(again.first == v[0])
        }
    }

    @Test func dimensionsAreHonoured() throws {
        try withMockServer { server throws in
            let v = try vectors(try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":"a","dimensions":8}"#))
            #expect(v.first?.count == 8)
            let tooMany = try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":"a","dimensions":5000}"#)
            #expect(tooMany.status == 400)
            #expect((try tooMany.json()["error"] as? [String: Any])?["param"] as? String == "dimensions")
        }
    }

    @Test func base64IsLittleEndianFloat32OfTheSameVector() throws {
        try withMockServer { server throws in
            let floats = try vectors(try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":"a","dimensions":8}"#))[0]
            let r = try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":"a","dimensions":8,"encoding_format":"base64"}"#)
            let encoded = try #require((try r.json()["data"] as? [[String: Any]])?.first?["embedding"] as? String)
            let bytes = try #require(Data(base64Encoded: encoded))
            #expect(bytes.count == 32)
            let raw = [UInt8](bytes)
            let decoded: [Float] = stride(from: 0, to: 32, by: 4).map { (i: Int) -> Float in
                var bits: UInt32 = 0
                for k in 0..<4 { bits |= UInt32(raw[i + k]) << UInt32(8 * k) }
                return Float(bitPattern: bits)
            }
            #expect(zip(decoded, floats).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        }
    }

    @Test func tokenInputsAndUsage() throws {
        try withMockServer { server throws in
            let r = try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":[[1,2,3],[4,5]],"dimensions":4}"#)
            #expect(try vectors(r).count == 2)
            #expect((try r.json()["usage"] as? [String: Int])?["prompt_tokens"] == 5)
            let single = try server.exchange("POST", "/v1/embeddings", body: #"{"model":"e","input":[1,2,3],"dimensions":4}"#)
            #expect(try vectors(single).count == 1)
        }
    }

    @Test func badInputsAreRefused() throws {
        try withMockServer { server throws in
            for (body, param) in [(#"{"input":"a"}"#, "model"), (#"{"model":"e"}"#, "input"), (#"{"model":"e","input":""}"#, "input"),
                                  (#"{"model":"e","input":[]}"#, "input"), (#"{"model":"e","input":["a",1]}"#, "input[1]"),
                                  (#"{"model":"e","input":"a","encoding_format":"hex"}"#, "encoding_format")] {
                let r = try server.exchange("POST", "/v1/embeddings", body: body)
                #expect(r.status == 400, "\(body)")
                #expect((try r.json()["error"] as? [String: Any])?["param"] as? String == param, "\(body)")
            }
        }
    }
}

@Suite struct ModelsTests {
    @Test func listsTheMockModels() throws {
        try withMockServer { server throws in
            let j = try server.exchange("GET", "/v1/models").json()
            #expect(j["object"] as? String == "list")
            let data = try #require(j["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "mock-small"])
            #expect(data.allSatisfy { $0["object"] as? String == "model" && $0["owned_by"] as? String == "tollgate-mock" && $0["created"] is Int })
        }
    }

    @Test func retrievesOneModelOr404() throws {
        try withMockServer { server throws in
            #expect(try server.exchange("GET", "/v1/models/mock-small").json()["id"] as? String == "mock-small")
            let missing = try server.exchange("GET", "/v1/models/gpt-9")
            #expect(missing.status == 404)
            #expect((try missing.json()["error"] as? [String: Any])?["code"] as? String == "model_not_found")
        }
    }
}
