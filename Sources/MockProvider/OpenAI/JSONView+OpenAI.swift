import TollgateCore

/// The start every OpenAI request body shares: a JSON object with a string `model`.
extension JSONView {
    /// The validated top-level object, or OpenAI's error for a body that is not JSON.
    func openAIRoot() throws(OpenAIError) -> JSONObjectIndex {
        do throws(JSONScanError) {
            return try root()
        } catch {
            throw OpenAIError.unparsable(error)
        }
    }

    /// `model`; `defaultModel` stands in when it is missing (Azure OpenAI names the
    /// deployment in the URL instead).
    func openAIModel(of root: JSONObjectIndex, defaultModel: String?) throws(OpenAIError) -> String {
        guard let value = member("model", of: root) else {
            guard let defaultModel else { throw OpenAIError.invalidRequest("you must provide a model parameter", param: "model") }
            return defaultModel
        }
        guard let name = string(value) else { throw OpenAIError.invalidType("model", expected: "a string", got: value) }
        return name
    }
}
