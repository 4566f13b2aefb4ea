using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Serverless.Core.Api;

/// <summary>
/// JSON text as people and clients send it: a UTF-8 byte order mark (which editors on Windows write) is skipped, and
/// bytes that are not UTF-8 are found by position before the parser meets them (it would fail on them only when a
/// string holding them is read, and with no position).
/// </summary>
public static class JsonText
{
    private static ReadOnlySpan<byte> ByteOrderMark => [0xEF, 0xBB, 0xBF];

    public static ReadOnlyMemory<byte> WithoutByteOrderMark(ReadOnlyMemory<byte> json) =>
        json.Span.StartsWith(ByteOrderMark) ? json[ByteOrderMark.Length..] : json;

    /// <summary>Where the first byte that is not UTF-8 is, as "line L, byte B" counted from 1; null when every byte is.</summary>
    public static string? NotUtf8At(ReadOnlySpan<byte> json)
    {
        if (Utf8.IsValid(json)) return null;
        var index = 0;
        while (index < json.Length && Rune.DecodeFromUtf8(json[index..], out _, out var consumed) == OperationStatus.Done) index += consumed;
        return Position(json, index);
    }

    /// <summary>
    /// Where the first string of valid JSON text holds a <c>\u</c> escape of half a UTF-16 surrogate pair (a high half
    /// without its low half, or a low half alone), as "line L, byte B" counted from 1; null when none does. The parser
    /// accepts such text and fails only when the string is read, as an exception that is no bad-input answer. Text
    /// without a backslash has no escape and is not read twice.
    /// </summary>
    public static string? HalfSurrogateAt(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf((byte)'\\') < 0) return null;
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        while (reader.Read())
        {
            if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName) || !reader.ValueIsEscaped) continue;
            try
            {
                reader.GetString();
            }
            catch (InvalidOperationException)
            {
                return Position(json, (int)reader.TokenStartIndex);
            }
        }
        return null;
    }

    private static string Position(ReadOnlySpan<byte> json, int index)
    {
        var before = json[..index];
        var lineStart = before.LastIndexOf((byte)'\n') + 1;
        return $"line {before.Count((byte)'\n') + 1}, byte {index - lineStart + 1}";
    }

    /// <summary>
    /// What System.Text.Json found wrong, in words a caller can act on: without its position suffix (the caller gives the
    /// position, counted from 1) and without the parser's own option names.
    /// </summary>
    public static string Reason(JsonException e)
    {
        var message = e.Message;
        var suffix = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var path = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (path >= 0 && (suffix < 0 || path < suffix)) suffix = path;
        message = (suffix < 0 ? message : message[..suffix]).TrimEnd();
        foreach (var (parserTerms, plain) in ParserWording) message = message.Replace(parserTerms, plain, StringComparison.Ordinal);
        return message;
    }

    private static readonly (string ParserTerms, string Plain)[] ParserWording =
    [
        (", when isFinalBlock is true.", "."),
        (" which is not supported in this mode. Change the reader options.", ", which JSON does not allow."),
        (" Change the reader options.", ""),
    ];
}
