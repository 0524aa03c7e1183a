import Foundation
import Testing
@testable import ControlPlane

@Suite struct SecretBoxTests {
    static let k1 = Data(repeating: 1, count: 32).base64EncodedString()
    static let k2 = Data(repeating: 2, count: 32).base64EncodedString()

    @Test func sealsWithTheFirstKeyAndOpensWithAnyListedOne() throws {
        let old = try SecretBox(keyMaterial: "old:\(Self.k1)\n")
        let sealed = try old.seal("sk-live-123", context: "org_a:prv_1")
        #expect(sealed.hasPrefix("v1:old:"))
        #expect(!sealed.contains("sk-live-123"))
        // Rotation: the new key seals, the old one still opens what it sealed.
        let rotated = try SecretBox(keyMaterial: "# rotated\nnew:\(Self.k2)\nold:\(Self.k1)\n")
        #expect(rotated.activeKeyID == "new")
        #expect(try rotated.open(sealed, context: "org_a:prv_1") == "sk-live-123")
        #expect(try rotated.seal("x", context: "c").hasPrefix("v1:new:"))
    }

    @Test func aMovedOrTamperedCiphertextDoesNotOpen() throws {
        let box = try SecretBox(keyMaterial: Self.k1)
        let sealed = try box.seal("sk-live-123", context: "org_a:prv_1")
        #expect(throws: SecretBox.Failure.self) { try box.open(sealed, context: "org_a:prv_2") }
        var bytes = Array(sealed.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: SecretBox.Failure.self) { try box.open(String(decoding: bytes, as: UTF8.self), context: "org_a:prv_1") }
        let other = try SecretBox(keyMaterial: "k1:\(Self.k2)")
        #expect(throws: SecretBox.Failure.self) { try other.open(sealed, context: "org_a:prv_1") }
    }

    @Test func badKeyMaterialIsRefusedWithTheLine() {
        #expect(throws: SecretBox.Failure.self) { try SecretBox(keyMaterial: "") }
        #expect(throws: SecretBox.Failure.self) { try SecretBox(keyMaterial: "k1:" + Data(repeating: 1, count: 16).base64EncodedString()) }
        #expect(throws: SecretBox.Failure.self) { try SecretBox(keyMaterial: "a:\(Self.k1)\na:\(Self.k2)") }
        do {
            _ = try SecretBox(keyMaterial: "a:\(Self.k1)\nb:not-base64")
        } catch {
            #expect(error.description.contains("line 2"))
        }
    }
}

/// Every role × resource × verb, against the table the issue asks for.
@Suite struct AccessPolicyTests {
    static func expected(_ role: Role, _ kind: ResourceKind, _ verb: Verb) -> AccessPolicy.Decision {
        switch role {
        case .admin: return .allow
        case .viewer: return verb == .read ? .allow : .deny
        case .operator:
            if verb == .read { return .allow }
            return [.team, .user].contains(kind) ? .deny : .allow
        case .developer:
            if kind == .apiKey { return .teamScoped }
            if kind == .user { return verb == .read ? .teamScoped : .deny }
            return verb == .read ? .allow : .deny
        }
    }

    static let cases: [(Role, ResourceKind, Verb)] = Role.allCases.flatMap { role in
        ResourceKind.allCases.flatMap { kind in Verb.allCases.map { (role, kind, $0) } }
    }

    @Test(arguments: cases)
    func decision(_ role: Role, _ kind: ResourceKind, _ verb: Verb) {
        #expect(AccessPolicy.decide(role, kind, verb) == Self.expected(role, kind, verb))
    }

    @Test func onlyAdminsManageUsersAndTeams() {
        for role in Role.allCases where role != .admin {
            for verb in [Verb.create, .update, .delete] {
                #expect(AccessPolicy.decide(role, .user, verb) == .deny)
                #expect(AccessPolicy.decide(role, .team, verb) == .deny)
            }
        }
    }
}
