/// The call the mock makes when asked to use a tool (`+tool`): the request's first tool, with
/// fixed arguments, streamed in fragments the way models stream JSON arguments.
struct MockToolCall: Equatable {
    var id: String
    var name: String

    static let arguments = #"{"query":"mock"}"#
    /// `arguments` as a stream delivers it.
    static let argumentFragments = [#"{""#, "query", #"":""#, "mock", #""}"#]
    /// What a call costs in completion tokens: the fragments plus the call's framing.
    static let completionTokens = argumentFragments.count + 3
}
