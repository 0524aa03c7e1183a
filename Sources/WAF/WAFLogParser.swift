import Foundation

/// Extracts the rule id and `msg` from one ModSecurity log line without trusting the parts
/// of the line a client controls.
///
/// A line looks like `ModSecurity: Warning. Matched "Operator … (Value: `<raw value>' )
/// [file "…"] [line "…"] [id "942100"] [rev ""] [msg "SQL Injection …"] [data "<escaped>"]
/// [severity "2"] … [tag "…"] [hostname "<server>"] [uri "<raw path>"] [unique_id "<id>"] [ref "…"]`.
/// The matched value appears raw before the details and the path raw after them, so a
/// client can plant a fake `[id "…"] [msg "…"]` on either side. The parser therefore anchors
/// on the transaction's unique id (a random nonce the client never sees) and the exact path
/// it gave ModSecurity, and walks backwards from there: `data` is hex-escaped (no raw quote
/// can appear in it) and everything between `data` and `hostname` comes from the rule, so
/// the last `"] [data "` before the anchor is the real one, and `msg` and `id` precede it.
struct WAFLogParser {
    let anchor: String

    /// - Parameters:
    ///   - path: the request path as ModSecurity logs it (the URI without the query string).
    ///   - uniqueID: the id the transaction was created with.
    init(path: String, uniqueID: String) {
        anchor = " [uri \"\(path)\"] [unique_id \"\(uniqueID)\"]"
    }

    func parse(_ line: String) -> WAFRuleMatch? {
        guard let end = line.range(of: anchor, options: .backwards)?.lowerBound,
              let data = line.range(of: "\"] [data \"", options: .backwards, range: line.startIndex..<end)?.lowerBound,
              let msg = line.range(of: " [msg \"", options: .backwards, range: line.startIndex..<data),
              let id = line.range(of: " [id \"", options: .backwards, range: line.startIndex..<msg.lowerBound) else {
            return nil
        }
        let digits = line[id.upperBound...].prefix { $0.isASCII && $0.isNumber }
        guard let ruleID = Int(digits) else { return nil }
        return WAFRuleMatch(id: ruleID, message: String(line[msg.upperBound..<data]))
    }
}
