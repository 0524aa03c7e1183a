/// Makes the copy of a JSON request body that ModSecurity inspects: every string value in a
/// prompt-carrying place becomes `""`, everything else (keys, structure, the other values)
/// stays byte for byte.
///
/// Text that merely talks about SQL or `<script>` is the guardrails' business, not the CRS's.
/// Excluding the prompt arguments by rule (`SecRuleUpdateTargetByTag … !ARGS:…`) did that
/// too, but libmodsecurity 3 matches every exclusion regex against every argument in every
/// rule evaluation, so the exclusions alone cost more than the rules on a chat request.
/// Blanked, the prompt costs the CRS almost nothing and no exclusion has to be evaluated.
///
/// The prompt-carrying places, named as ModSecurity's JSON body processor names arguments
/// (`json.<key>`, arrays as `array_<index>`):
/// - `json.messages.array_N.content` and everything below it (string content, OpenAI content
///   parts, Anthropic text/tool_use/tool_result blocks);
/// - `json.messages.array_N.tool_calls.array_M.function.arguments`, `json.messages.array_N.function_call.arguments`;
/// - `json.system`, `json.prompt`, `json.input`, `json.instructions` and everything below them;
/// - `json.tools.array_N.…`, `json.functions.array_N.…` (tool descriptions and schemas).
/// Keys match exactly as written (a key spelled with escapes is not recognised, so its value
/// stays inspected): a look-alike field (`name`, `user`, `metadata`, `content_type`) is
/// never spared.
///
/// One pass, no recursion (an explicit stack of at most `maxDepth` frames), no allocation
/// but the output. A body that is not a JSON object, is nested deeper than `maxDepth` or does
/// not follow the JSON grammar gets nil: ModSecurity then sees the original bytes (its own
/// parser answers a broken body with a 400, and the request parser after the WAF refuses
/// anything that is not strict JSON).
public enum WAFPromptBlanker {
    /// Deeper bodies are handed over unchanged (the request parser refuses them later).
    public static let maxDepth = 256

    /// What a container (and the values directly in it) means for blanking.
    enum Place: UInt8 {
        /// Nothing in here is prompt text.
        case other
        /// Every string value at or below this point is prompt text.
        case prompt
        case root
        case messages
        case message
        case toolCalls
        case toolCall
        /// `function` of a tool call and a message's `function_call`: only `arguments`.
        case function
        /// `tools` / `functions`: each element that is a container is prompt text.
        case tools
    }

    /// The place of the value under `key` (raw bytes between the quotes) in an object at `place`.
    static func child(of place: Place, key: UnsafeRawBufferPointer.SubSequence) -> Place {
        switch place {
        case .prompt: return .prompt
        case .root:
            if equals(key, "messages") { return .messages }
            if equals(key, "system") || equals(key, "prompt") || equals(key, "input") || equals(key, "instructions") { return .prompt }
            if equals(key, "tools") || equals(key, "functions") { return .tools }
            return .other
        case .message:
            if equals(key, "content") { return .prompt }
            if equals(key, "tool_calls") { return .toolCalls }
            if equals(key, "function_call") { return .function }
            return .other
        case .toolCall:
            return equals(key, "function") ? .function : .other
        case .function:
            return equals(key, "arguments") ? .prompt : .other
        case .other, .messages, .toolCalls, .tools:
            return .other
        }
    }

    /// The place of an element of an array at `place`; `container` says whether the element
    /// is an object or array (a scalar element of `tools` is not below `tools.array_N.`).
    static func element(of place: Place, container: Bool) -> Place {
        switch place {
        case .prompt: return .prompt
        case .messages: return container ? .message : .other
        case .toolCalls: return container ? .toolCall : .other
        case .tools: return container ? .prompt : .other
        default: return .other
        }
    }

    static func equals(_ key: UnsafeRawBufferPointer.SubSequence, _ literal: StaticString) -> Bool {
        guard key.count == literal.utf8CodeUnitCount else { return false }
        let l = literal.utf8Start
        var i = 0
        for b in key {
            if b != l[i] { return false }
            i += 1
        }
        return true
    }

    /// The blanked copy, or nil when nothing was blanked or the body is not a JSON object
    /// this walker can follow (see the type's comment).
    public static func blank(_ body: UnsafeRawBufferPointer) -> [UInt8]? {
        var out: [UInt8] = []
        var copied = 0
        var blankedAny = false
        // Frames: the container's place, whether it is an object, and (objects) the place of
        // the value that follows the key just read.
        var places: [Place] = []
        var isObject: [Bool] = []
        var pendingValue: Place = .other
        places.reserveCapacity(16)
        isObject.reserveCapacity(16)

        /// What may come next: `…OrEnd` right after a container opened (it may close empty),
        /// `key`/`value` after a comma (it may not).
        enum Expect { case value, key, keyOrEnd, colon, commaOrEnd, valueOrEnd }
        var expect = Expect.value
        var i = 0
        let n = body.count
        var sawRoot = false

        /// The place the next value gets, from the enclosing container.
        func placeOfNextValue(container: Bool) -> Place {
            guard let top = places.last else { return .root }
            if isObject[isObject.count - 1] { return pendingValue }
            return element(of: top, container: container)
        }

        while i < n {
            let c = body[i]
            switch c {
            case 0x20, 0x0A, 0x0D, 0x09:
                i += 1
                continue
            default:
                break
            }
            if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                // A container closes after one of its values, or empty right after it opened.
                let closesObject = c == UInt8(ascii: "}")
                let closes = expect == .commaOrEnd || expect == (closesObject ? .keyOrEnd : .valueOrEnd)
                guard closes, isObject.last == closesObject else { return nil }
                places.removeLast()
                isObject.removeLast()
                i += 1
                expect = .commaOrEnd
                if places.isEmpty {
                    i = skipWhitespace(body, i)
                    return i == n && blankedAny ? finish(&out, body, copied) : nil
                }
                continue
            }
            switch expect {
            case .colon:
                guard c == UInt8(ascii: ":") else { return nil }
                i += 1
                expect = .value
                continue
            case .commaOrEnd:
                guard c == UInt8(ascii: ",") else { return nil }
                i += 1
                expect = isObject.last == true ? .key : .value
                continue
            case .key, .keyOrEnd:
                guard c == UInt8(ascii: "\""), let end = stringEnd(body, from: i) else { return nil }
                pendingValue = child(of: places[places.count - 1], key: body[(i + 1)..<(end - 1)])
                i = end
                expect = .colon
                continue
            case .valueOrEnd, .value:
                if !sawRoot {
                    // Only an object at the top: ModSecurity names a top-level array's members
                    // `json.array_N…`, which no prompt place covers.
                    guard c == UInt8(ascii: "{") else { return nil }
                    sawRoot = true
                }
                switch c {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    guard places.count < maxDepth else { return nil }
                    let place = placeOfNextValue(container: true)
                    places.append(place)
                    isObject.append(c == UInt8(ascii: "{"))
                    i += 1
                    expect = c == UInt8(ascii: "{") ? .keyOrEnd : .valueOrEnd
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(body, from: i) else { return nil }
                    if placeOfNextValue(container: false) == .prompt, end - i > 2 {
                        if out.isEmpty { out.reserveCapacity(n) }
                        out.append(contentsOf: body[copied..<i])
                        out.append(UInt8(ascii: "\""))
                        out.append(UInt8(ascii: "\""))
                        copied = end
                        blankedAny = true
                    }
                    i = end
                    expect = .commaOrEnd
                default:
                    // A number or literal: its bytes up to the next delimiter.
                    let start = i
                    while i < n {
                        let b = body[i]
                        if b == UInt8(ascii: ",") || b == UInt8(ascii: "}") || b == UInt8(ascii: "]") || b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { break }
                        guard isScalarByte(b) else { return nil }
                        i += 1
                    }
                    guard i > start else { return nil }
                    expect = .commaOrEnd
                }
                continue
            }
        }
        // The input ended inside a container.
        return nil
    }

    /// Number and literal bytes (`-0123456789.eE+` and the letters of true/false/null).
    @inline(__always)
    static func isScalarByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
             UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"),
             UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "n"):
            return true
        default:
            return false
        }
    }

    /// The index just past the closing quote of the string that opens at `start`, or nil
    /// when it is not closed or holds a raw control character.
    static func stringEnd(_ body: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start + 1
        let n = body.count
        while i < n {
            let b = body[i]
            if b == UInt8(ascii: "\"") { return i + 1 }
            if b == UInt8(ascii: "\\") {
                i += 2
                continue
            }
            if b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    static func skipWhitespace(_ body: UnsafeRawBufferPointer, _ from: Int) -> Int {
        var i = from
        while i < body.count, body[i] == 0x20 || body[i] == 0x0A || body[i] == 0x0D || body[i] == 0x09 { i += 1 }
        return i
    }

    static func finish(_ out: inout [UInt8], _ body: UnsafeRawBufferPointer, _ copied: Int) -> [UInt8] {
        out.append(contentsOf: body[copied..<body.count])
        return out
    }
}
