/// Non-Latin letters that render like ASCII letters and are used to slip past filters.
enum Homoglyphs {
    static let table: [UInt32: UInt8] = {
        let pairs: [(UInt32, Character)] = [
            // Cyrillic lower case
            (0x0430, "a"), (0x0432, "b"), (0x0435, "e"), (0x0451, "e"), (0x043A, "k"), (0x043C, "m"), (0x043D, "h"),
            (0x043E, "o"), (0x0440, "p"), (0x0441, "c"), (0x0442, "t"), (0x0443, "y"), (0x0445, "x"), (0x0455, "s"),
            (0x0456, "i"), (0x0457, "i"), (0x0458, "j"), (0x0501, "d"), (0x04CF, "l"), (0x0261, "g"), (0x051B, "q"), (0x051D, "w"),
            // Cyrillic upper case
            (0x0410, "a"), (0x0412, "b"), (0x0415, "e"), (0x041A, "k"), (0x041C, "m"), (0x041D, "h"), (0x041E, "o"),
            (0x0420, "p"), (0x0421, "c"), (0x0422, "t"), (0x0423, "y"), (0x0425, "x"), (0x0405, "s"), (0x0406, "i"),
            (0x0408, "j"), (0x04C0, "l"),
            // Greek lower case
            (0x03B1, "a"), (0x03B2, "b"), (0x03B5, "e"), (0x03B9, "i"), (0x03BA, "k"), (0x03BD, "v"), (0x03BF, "o"),
            (0x03C1, "p"), (0x03C4, "t"), (0x03C5, "u"), (0x03C7, "x"), (0x03C9, "w"),
            // Greek upper case
            (0x0391, "a"), (0x0392, "b"), (0x0395, "e"), (0x0396, "z"), (0x0397, "h"), (0x0399, "i"), (0x039A, "k"),
            (0x039C, "m"), (0x039D, "n"), (0x039F, "o"), (0x03A1, "p"), (0x03A4, "t"), (0x03A5, "y"), (0x03A7, "x"),
            // Latin look-alikes
            (0x0131, "i"), (0x0269, "i"), (0x1D00, "a"), (0x0280, "r"), (0x026A, "i"),
        ]
        var t: [UInt32: UInt8] = [:]
        for (scalar, c) in pairs { t[scalar] = c.asciiValue! }
        return t
    }()
}
