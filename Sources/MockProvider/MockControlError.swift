/// A mock control the mock cannot honour, with what to fix; answered with a 400.
struct MockControlError: Error, Equatable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
