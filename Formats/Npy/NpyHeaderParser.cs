using System.Globalization;

namespace FastInfer.Formats.Npy;

/// <summary>
/// Parses the header of a <c>.npy</c> file: a Python dict literal with exactly the keys <c>descr</c> (a string),
/// <c>fortran_order</c> (True/False) and <c>shape</c> (a tuple of non-negative ints). Only this small grammar is
/// accepted; anything else (object dtypes, structured dtypes, unknown keys) is rejected with the field named.
/// </summary>
internal ref struct NpyHeaderParser
{
    private readonly ReadOnlySpan<char> _text;
    private readonly string? _file;
    private readonly ReaderLimits _limits;
    private int _pos;

    private NpyHeaderParser(ReadOnlySpan<char> text, string? file, ReaderLimits limits)
    {
        _text = text; _file = file; _limits = limits; _pos = 0;
    }

    public static (string Descr, bool FortranOrder, long[] Shape) Parse(ReadOnlySpan<char> text, string? file, ReaderLimits limits)
    {
        var p = new NpyHeaderParser(text, file, limits);
        return p.ParseDict();
    }

    private (string, bool, long[]) ParseDict()
    {
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        Expect('{');
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { _pos++; break; }
            string key = ReadString("header key");
            Expect(':');
            switch (key)
            {
                case "descr":
                    SkipSpace();
                    if (Peek() is '[') throw Fail("structured (record) dtypes are not supported; save a plain numeric array", "descr");
                    if (descr is not null) throw Fail("appears twice", "descr");
                    descr = ReadString("descr");
                    break;
                case "fortran_order":
                    if (fortran is not null) throw Fail("appears twice", "fortran_order");
                    fortran = ReadBool("fortran_order");
                    break;
                case "shape":
                    if (shape is not null) throw Fail("appears twice", "shape");
                    shape = ReadShape();
                    break;
                default:
                    throw Fail($"unknown key '{key}' (expected descr, fortran_order, shape)", "header");
            }
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            SkipSpace();
            if (Peek() == '}') { _pos++; break; }
            throw Fail($"expected ',' or '}}' at character {_pos}", "header");
        }
        SkipSpace();
        if (_pos != _text.Length) throw Fail($"unexpected text after the dict at character {_pos}", "header");
        return (descr ?? throw Fail("missing", "descr"),
            fortran ?? throw Fail("missing", "fortran_order"),
            shape ?? throw Fail("missing", "shape"));
    }

    private long[] ReadShape()
    {
        Expect('(');
        var dims = new List<long>();
        while (true)
        {
            SkipSpace();
            if (Peek() == ')') { _pos++; break; }
            dims.Add(ReadDim());
            if (dims.Count > _limits.MaxRank)
                throw Fail($"rank is over the limit of {_limits.MaxRank} (ReaderLimits.MaxRank)", "shape");
            SkipSpace();
            char c = Peek();
            if (c == ',') { _pos++; continue; }
            if (c == ')') { _pos++; break; }
            throw Fail($"expected ',' or ')' at character {_pos}", "shape");
        }
        return dims.ToArray();
    }

    private long ReadDim()
    {
        int start = _pos;
        while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos])) _pos++;
        // Python 2 wrote long dims as "3L".
        int end = _pos;
        if (_pos < _text.Length && _text[_pos] == 'L') _pos++;
        if (end == start)
            throw Fail($"expected a non-negative integer at character {start}", "shape");
        if (!long.TryParse(_text[start..end], NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v > _limits.MaxDim)
            throw Fail($"dimension {_text[start..end].ToString()} is over the limit of {_limits.MaxDim} (ReaderLimits.MaxDim)", "shape");
        return v;
    }

    private bool ReadBool(string field)
    {
        SkipSpace();
        if (_text[_pos..].StartsWith("True")) { _pos += 4; return true; }
        if (_text[_pos..].StartsWith("False")) { _pos += 5; return false; }
        throw Fail("expected True or False", field);
    }

    private string ReadString(string field)
    {
        SkipSpace();
        char quote = Peek();
        if (quote is not ('\'' or '"')) throw Fail($"expected a quoted string at character {_pos}", field);
        int start = ++_pos;
        while (_pos < _text.Length && _text[_pos] != quote)
        {
            if (_text[_pos] == '\\') throw Fail("escape sequences are not supported in the header", field);
            _pos++;
        }
        if (_pos >= _text.Length) throw Fail("unterminated string", field);
        return _text[start..(_pos++)].ToString();
    }

    private void Expect(char c)
    {
        SkipSpace();
        if (Peek() != c) throw Fail($"expected '{c}' at character {_pos}", "header");
        _pos++;
    }

    private readonly char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private void SkipSpace()
    {
        while (_pos < _text.Length && _text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private readonly ModelFormatException Fail(string message, string field) => new(message, _file, $"npy header field '{field}'");
}
