using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Unicode;

namespace Serverless.Core.Datasets;

/// <summary>
/// Reads delimited UTF-8 text in batches of records, each field a trimmed byte span into one bounded buffer, so ingestion
/// parses, checks and profiles a file without a string per field. The rules are the ones ingestion applied through
/// Sylvan's reader: a field is quoted only when its first character is a quote, a doubled quote inside is a literal one,
/// anything but a delimiter or a line end after the closing quote is malformed, and a record may hold at most a given
/// number of characters (line end included). Comments are off unless a comment character is given: then a record whose
/// first character it is, is skipped and counted (<see cref="Comments"/>), as Sylvan skips a record starting with its
/// <c>Comment</c> character.
/// </summary>
internal sealed class Utf8CsvReader : IDisposable
{
    private const int Slack = 64;
    private const int DecodeChunk = 1 << 16;
    private const byte Quote = (byte)'"';

    private readonly Stream _stream;
    private readonly byte _delimiter;
    private readonly byte _minSafe;
    private readonly int _maxRecordChars;
    private readonly int _comment;
    private readonly bool _skipFirstLine;
    private byte[] _buffer;
    private int _end;
    private int _validEnd;
    private int _next;
    private bool _eof;
    private bool _started;
    private bool _ascii;
    private bool _macLineEnds;
    private int _maskBase = -1;
    private ulong _mask;
    private CsvInputException? _pending;
    private long _bufferOffset;
    private long _checked;
    private long _stalledAt = -1;
    private int _stalledChunks;

    private Field[] _fields = new Field[1024];
    private int _fieldCount;
    private (int Index, int Escapes)[] _quoted = new (int, int)[4];
    private int _quotedCount;
    private Row[] _rows = new Row[64];
    private int _rowCount;
    private long _firstRecord;
    private bool _canonical;

    /// <param name="skipFirstLine">Whether the first line is no record (Excel's "sep=;" line): it is skipped and counted with <see cref="Comments"/>.</param>
    public Utf8CsvReader(Stream stream, char delimiter, int maxRecordChars, int bufferSize = 1 << 20, char? comment = null, bool skipFirstLine = false)
    {
        _skipFirstLine = skipFirstLine;
        _comment = comment is { } c ? checked((byte)c) : -1;
        _stream = stream;
        _delimiter = checked((byte)delimiter);
        _minSafe = (byte)Math.Max(Math.Max('\r', delimiter), '"');
        _maxRecordChars = maxRecordChars;
        _buffer = new byte[bufferSize + Slack];
    }

    /// <summary>Called before the buffer's content moves, so spans into it (a pending run of output) can be used up first.</summary>
    public Action? BeforeBufferChange { get; set; }

    /// <summary>Records read so far, comments excepted: the record numbers reports cite count the same way.</summary>
    public long Records { get; private set; }

    /// <summary>Comment lines skipped so far (none unless a comment character was given), and a first line skipped as no record.</summary>
    public long Comments { get; private set; }

    public byte[] Buffer => _buffer;

    /// <summary>The 1-based number of a record of the batch in the file.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    /// <remarks>
    /// Comment lines skipped before the record count too, and so do line breaks inside quoted fields of earlier records:
    /// the number is the line the record starts on.
    /// </remarks>
    public long RecordNumber(int record) => _firstRecord + record + _rows[record].LinesBefore;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int FieldCount(int record) => _rows[record].FieldCount;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RecordStart(int record) => _rows[record].Start;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int RecordLength(int record) => _rows[record].Length;

    /// <summary>Where the record's bytes start in the input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long FileOffset(int record) => _bufferOffset + _rows[record].Start;

    /// <summary>
    /// Whether the record's bytes, as read, are already canonical CSV: comma-separated, ended by a single LF, no quotes or
    /// CRs, no field with spaces to trim, and not led by a comment mark (see <see cref="CanonicalSink.LeadsLikeComment"/>).
    /// Missing-value tokens are for the caller to check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsCanonical(int record) => _rows[record].Canonical;

    /// <summary>
    /// Whether every field of the record is empty once trimmed: an empty line, or a spreadsheet's row of empty cells
    /// (",,", which Excel writes after the data). Such a record holds no value, so it is a blank line, not a row.
    /// </summary>
    public bool IsBlank(int record)
    {
        var row = _rows[record];
        for (var f = row.FirstField; f < row.FirstField + row.FieldCount; f++)
        {
            if (_fields[f].Length > 0) return false;
        }
        return true;
    }

    /// <summary>A field's value, unquoted, unescaped and trimmed of white space (as <see cref="string.Trim()"/> trims).</summary>
    public ReadOnlySpan<byte> this[int record, int field]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var f = _fields[_rows[record].FirstField + field];
            return _buffer.AsSpan(f.Start, f.Length);
        }
    }

    /// <summary>Whether every byte in the buffer, and so every field of the batch, is ASCII.</summary>
    public bool IsAscii => _ascii;

    /// <summary>The field's length in UTF-16 characters, the unit column statistics count lengths in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int CharLength(ReadOnlySpan<byte> value) => _ascii ? value.Length : Encoding.UTF8.GetCharCount(value);

    /// <summary>A field as a <see cref="ColumnStatistics.ShortKey"/> (0 unless it has one to seven bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong ShortKey(int record, int field) => _fields[_rows[record].FirstField + field].Key;

    public string GetString(int record, int field) => Encoding.UTF8.GetString(this[record, field]);

    public string[] GetStrings(int record)
    {
        var values = new string[FieldCount(record)];
        for (var i = 0; i < values.Length; i++) values[i] = GetString(record, i);
        return values;
    }

    /// <summary>
    /// Reads the next records (at most <paramref name="maxRecords"/>, and no more than the buffer holds) and returns how
    /// many; 0 at the end of the input. The previous batch's spans are invalid afterwards. Input that cannot be read throws
    /// <see cref="CsvInputException"/>, after the records before it have been returned.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadBatch(int maxRecords)
    {
        if (_pending is not null) throw _pending;
        if (!_started) Start();
        _rowCount = 0;
        _fieldCount = 0;
        _firstRecord = Records + 1;
        while (_rowCount < maxRecords)
        {
            if (_next >= _validEnd && AtEnd) break;
            var start = _next;
            var firstField = _fieldCount;
            var comment = false;
            var end = -1;
            try
            {
                if (start < _validEnd)
                {
                    comment = _buffer[start] == _comment;
                    end = comment ? SkipComment(start) : ParseRecord(start);
                }
                if (end < 0)
                {
                    _fieldCount = firstField;
                    CheckIncompleteSize(start);
                    _stalledChunks = _stalledAt == _bufferOffset + start ? Math.Min(_stalledChunks * 2, 1 << 16) : 1;
                    _stalledAt = _bufferOffset + start;
                    if (ValidateMore(_stalledChunks)) continue;
                }
            }
            catch (CsvInputException e) when (_rowCount > 0)
            {
                _pending = e;
                _fieldCount = firstField;
                break;
            }
            if (end < 0)
            {
                if (_rowCount > 0) break;
                Fill();
                continue;
            }
            _next = end;
            if (comment)
            {
                Comments++;
                continue;
            }
            if (_rowCount == _rows.Length) Array.Resize(ref _rows, _rowCount * 2);
            _rows[_rowCount++] = new Row(firstField, _fieldCount - firstField, start, end - start, _canonical, Comments + _quotedLineBreaks);
            if (_quotedCount > 0)
            {
                // Counted before the quoted fields are rewritten in place, which moves their bytes.
                _quotedLineBreaks += LineBreaksWithin(_buffer.AsSpan(start, end - start));
                FinishQuoted();
            }
            Records++;
        }
        return _rowCount;
    }

    public void Dispose() => _stream.Dispose();

    /// <summary>
    /// One record of the batch: its fields, where its bytes lie, whether they are canonical as read, and the lines before
    /// it that are not records (comment lines, and line breaks inside quoted fields).
    /// </summary>
    private readonly record struct Row(int FirstField, int FieldCount, int Start, int Length, bool Canonical, long LinesBefore);

    /// <summary>Line breaks (LF, CR LF or a lone CR) inside quoted fields of the records read so far.</summary>
    private long _quotedLineBreaks;

    /// <summary>The line breaks inside a record's bytes, its own terminator left out: those of its quoted fields.</summary>
    private static long LineBreaksWithin(ReadOnlySpan<byte> record)
    {
        if (record.EndsWith("\r\n"u8)) record = record[..^2];
        else if (record.Length > 0 && record[^1] is (byte)'\n' or (byte)'\r') record = record[..^1];
        long breaks = record.Count((byte)'\n');
        if (record.IndexOf((byte)'\r') < 0) return breaks;
        for (var i = 0; i < record.Length; i++)
        {
            if (record[i] == '\r' && (i + 1 == record.Length || record[i + 1] != '\n')) breaks++;
        }
        return breaks;
    }

    /// <summary>Reads the first 64 KiB (or all of a shorter input), skips a UTF-8 byte-order mark and tells LF from lone-CR line ends, as Sylvan did from its first buffer.</summary>
    private void Start()
    {
        _started = true;
        do Fill();
        while (!_eof && _end <= 1 << 16);
        if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _next = 3;
        for (var i = _next; i < Math.Min(_end, 1 << 16); i++)
        {
            if (_buffer[i] == (byte)'\n') break;
            if (_buffer[i] == (byte)'\r')
            {
                _macLineEnds = i + 1 >= _end || _buffer[i + 1] != (byte)'\n';
                break;
            }
        }
        if (_skipFirstLine)
        {
            var line = _buffer.AsSpan(_next, _end - _next);
            var end = line.IndexOfAny((byte)'\r', (byte)'\n');
            _next += end < 0 ? line.Length : end + (line[end..].StartsWith("\r\n"u8) ? 2 : 1);
            Comments++;
        }
    }

    /// <summary>Keeps the unread part at the front, grows the buffer when a record fills it, and reads more.</summary>
    private void Fill()
    {
        BeforeBufferChange?.Invoke();
        _maskBase = -1;
        if (_next > 0)
        {
            _bufferOffset += _next;
            Array.Copy(_buffer, _next, _buffer, 0, _end - _next);
            _end -= _next;
            _validEnd -= _next;
            _next = 0;
        }
        if (_end == _buffer.Length - Slack) Array.Resize(ref _buffer, (_buffer.Length - Slack) * 2 + Slack);
        var read = _stream.Read(_buffer, _end, _buffer.Length - Slack - _end);
        if (read == 0) _eof = true;
        _end += read;
        _ascii = Ascii.IsValid(_buffer.AsSpan(0, _end));
    }

    /// <summary>Whether every byte of the input has been read, checked and made visible to the parser.</summary>
    private bool AtEnd => _eof && _validEnd == _end;

    /// <summary>
    /// Makes the next 64 KiB chunks of the input (counted from its first byte) visible to the parser once they are checked
    /// to be UTF-8, a sequence cut at a chunk's end carried to the next one; after the last chunk, a cut sequence left over
    /// is refused. One chunk at a time is the rhythm of the UTF-8 decoder behind the reader ingestion used before, so that
    /// of two faults in one file the same one is reported first; a record still incomplete takes twice as many chunks each
    /// time, so that re-reading it from its start stays linear in its length. Returns false when no chunk is read yet.
    /// </summary>
    private bool ValidateMore(int chunks)
    {
        var validated = false;
        while (chunks-- > 0 && ValidateChunk()) validated = true;
        return validated;
    }

    private bool ValidateChunk()
    {
        if (AtEnd) return false;
        var readTo = _bufferOffset + _end;
        if (_eof && _checked == readTo) throw NotUtf8(_buffer.AsSpan(_validEnd, _end - _validEnd), _validEnd);
        var chunkEnd = _checked + DecodeChunk;
        if (chunkEnd > readTo)
        {
            if (!_eof) return false;
            chunkEnd = readTo;
        }
        var span = _buffer.AsSpan(_validEnd, (int)(chunkEnd - _bufferOffset) - _validEnd);
        var tail = 0;
        if (!span.IsEmpty)
        {
            var last = span.Length - 1;
            while (last > 0 && last > span.Length - 4 && (span[last] & 0xC0) == 0x80) last--;
            if (Rune.DecodeFromUtf8(span[last..], out _, out _) == OperationStatus.NeedMoreData) tail = span.Length - last;
        }
        if (!Utf8.IsValid(span[..^tail])) throw NotUtf8(span[..^tail], _validEnd);
        _validEnd += span.Length - tail;
        _checked = chunkEnd;
        _maskBase = -1;
        return true;
    }

    /// <summary>
    /// The encoding fault in <paramref name="span"/> (which starts at buffer index <paramref name="start"/>), named by its
    /// byte in the file, counted from 1, and the bytes there: a sequence UTF-8 does not allow, or one the file cuts short.
    /// </summary>
    private CsvInputException NotUtf8(ReadOnlySpan<byte> span, int start)
    {
        var index = 0;
        while (index < span.Length && Rune.DecodeFromUtf8(span[index..], out _, out var consumed) == OperationStatus.Done) index += consumed;
        var cut = Rune.DecodeFromUtf8(span[index..], out _, out _) == OperationStatus.NeedMoreData;
        var bad = cut ? span[index..] : span.Slice(index, 1);
        var bytes = string.Join(" ", bad.ToArray().Select(b => $"0x{b:X2}"));
        var detail = $"byte {_bufferOffset + start + index + 1:N0} ({bytes}) {(cut ? "begins a sequence the file cuts short" : "is not allowed there in UTF-8")}";
        return new CsvInputException(CsvInputProblem.InvalidEncoding, Records + 1, detail);
    }

    /// <summary>Past a comment line (to its first CR or LF, a CR LF pair counting as one); -1 when more input is needed.</summary>
    private int SkipComment(int start)
    {
        var span = _buffer.AsSpan(start, _validEnd - start);
        var i = span.IndexOfAny((byte)'\r', (byte)'\n');
        if (i < 0) return AtEnd ? CheckFinalSize(start, _validEnd) : -1;
        return LineEnd(start, start + i);
    }

    /// <summary>Where the record continues after the line end at <paramref name="at"/>, checking the record's size; -1 when more input is needed.</summary>
    private int LineEnd(int start, int at)
    {
        if (_buffer[at] == (byte)'\r')
        {
            if (at + 1 == _validEnd)
            {
                if (!AtEnd) return -1;
                return CheckSize(start, at + 1);
            }
            return CheckSize(start, _buffer[at + 1] == (byte)'\n' ? at + 2 : at + 1);
        }
        return CheckSize(start, at + 1);
    }

    private int CheckSize(int start, int end)
    {
        if (end - start > _maxRecordChars && CharCount(start, end) > _maxRecordChars) throw TooLarge();
        return end;
    }

    private int CheckFinalSize(int start, int end)
    {
        if (end - start >= _maxRecordChars && CharCount(start, end) >= _maxRecordChars) throw TooLarge();
        return end;
    }

    private void CheckIncompleteSize(int start)
    {
        if (_validEnd - start >= _maxRecordChars && CharCount(start, _validEnd) >= _maxRecordChars) throw TooLarge();
    }

    private CsvInputException TooLarge() => new(CsvInputProblem.RecordTooLarge, Records + 1, "") { Line = NextLine };

    /// <summary>The line of the file the record being read starts on, counted as <see cref="RecordNumber"/> counts.</summary>
    private long NextLine => Records + 1 + Comments + _quotedLineBreaks;

    /// <summary>UTF-16 characters in a run of UTF-8: one per sequence, two for a four-byte one.</summary>
    private int CharCount(int start, int end)
    {
        var count = 0;
        foreach (var b in _buffer.AsSpan(start, end - start))
        {
            if ((b & 0xC0) != 0x80) count++;
            if (b >= 0xF0) count++;
        }
        return count;
    }

    /// <summary>Splits one record into fields; returns where the next record starts, or -1 when more input is needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int ParseRecord(int start)
    {
        _quotedCount = 0;
        _canonical = false;
        var buffer = _buffer;
        // As CanonicalSink.LeadsLikeComment, on the buffer: its slack past the data makes start + 1 readable, and a stale
        // byte there can only make a one-byte record "/" be rewritten as itself.
        var lead = buffer[start];
        var canonical = _delimiter == (byte)',' && !_macLineEnds && lead != (byte)'#' && (lead != (byte)'/' || buffer[start + 1] != (byte)'/');
        var end = _validEnd;
        var delimiter = _delimiter;
        var lineEnd = _macLineEnds ? (byte)'\r' : (byte)'\n';
        var maskBase = _maskBase;
        var mask = _mask;
        try
        {
            var fieldStart = start;
            while (true)
            {
                if (fieldStart == end)
                {
                    if (!AtEnd) return -1;
                    AddField(fieldStart, 0);
                    return CheckFinalSize(start, fieldStart);
                }
                if (buffer[fieldStart] == Quote)
                {
                    var (next, done) = ParseQuoted(start, fieldStart);
                    if (next < 0 || done) return next;
                    canonical = false;
                    fieldStart = next;
                    continue;
                }
                var chunk = fieldStart & ~63;
                if (chunk != maskBase)
                {
                    maskBase = chunk;
                    mask = Structural(chunk);
                }
                var m = mask & (ulong.MaxValue << (fieldStart & 63));
                while (true)
                {
                    while (m == 0)
                    {
                        chunk += 64;
                        if (chunk >= end) break;
                        maskBase = chunk;
                        m = mask = Structural(chunk);
                    }
                    if (m == 0)
                    {
                        if (!AtEnd) return -1;
                        canonical &= AddUnquoted(fieldStart, end);
                        return CheckFinalSize(start, end);
                    }
                    var q = chunk + BitOperations.TrailingZeroCount(m);
                    m &= m - 1;
                    var c = buffer[q];
                    if (c == delimiter)
                    {
                        canonical &= AddUnquoted(fieldStart, q);
                        fieldStart = q + 1;
                        if (fieldStart == end || buffer[fieldStart] == Quote) break;
                        continue;
                    }
                    if (c == lineEnd)
                    {
                        canonical &= AddUnquoted(fieldStart, q);
                        var next = CheckSize(start, q + 1);
                        _canonical = canonical;
                        return next;
                    }
                    canonical = false;
                }
            }
        }
        finally
        {
            _maskBase = maskBase;
            _mask = mask;
        }
    }

    /// <summary>Adds an unquoted field, trimmed; false when trimming changed it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool AddUnquoted(int start, int end)
    {
        var length = end - start;
        if (length == 0 || ((uint)(_buffer[start] - 0x21) < 0x5F && (uint)(_buffer[end - 1] - 0x21) < 0x5F))
        {
            AddField(start, length);
            return true;
        }
        var (offset, trimmed) = Trim(_buffer.AsSpan(start, length));
        AddField(start + offset, trimmed);
        return trimmed == length;
    }

    /// <summary>
    /// A quoted field from its opening quote: the position after it and whether the record ends there, or (-1, false)
    /// when more input is needed. Only a delimiter, a line end or the end of input may follow the closing quote.
    /// </summary>
    private (int Next, bool RecordDone) ParseQuoted(int start, int open)
    {
        var escapes = 0;
        var i = open + 1;
        while (true)
        {
            var k = _buffer.AsSpan(i, _validEnd - i).IndexOf(Quote);
            if (k < 0)
            {
                if (!AtEnd) return (-1, false);
                throw Malformed(CsvInputProblem.Malformed, "A quoted field at the end of the input ends without a closing quote.", start, open);
            }
            var q = i + k;
            if (q + 1 == _validEnd)
            {
                if (!AtEnd) return (-1, false);
                AddQuoted(open + 1, q, escapes);
                return (CheckFinalSize(start, _validEnd), true);
            }
            var c = _buffer[q + 1];
            if (c == Quote)
            {
                escapes++;
                i = q + 2;
                continue;
            }
            if (c == _delimiter)
            {
                AddQuoted(open + 1, q, escapes);
                return (q + 2, false);
            }
            if (c is (byte)'\n' or (byte)'\r')
            {
                var end = LineEnd(start, q + 1);
                if (end < 0) return (-1, false);
                AddQuoted(open + 1, q, escapes);
                return (end, true);
            }
            throw Malformed(CsvInputProblem.TextAfterQuote, AfterClosingQuote(q + 1), start, open, q);
        }
    }

    /// <summary>The message Sylvan gave for text after a closing quote, which depends on what follows it in the field.</summary>
    private string AfterClosingQuote(int from)
    {
        for (var i = from; i < _validEnd; i++)
        {
            var c = _buffer[i];
            if (c > _minSafe) return "A delimiter, newline or EOF was expected after a closing quote.";
            if (c == _delimiter || c is (byte)'\n' or (byte)'\r') break;
            if (c == Quote) return "An unescaped quote character '\"' was found inside a quoted field.";
        }
        return "A quoted field at the end of the input ends without a closing quote.";
    }

    /// <summary>
    /// Quoting that cannot be read, in the quoted field opening at <paramref name="open"/> of the record starting at
    /// <paramref name="start"/>: named by the line the field starts on, and with the field's text, so that a person can
    /// find it: to the delimiter after its closing quote at <paramref name="closed"/>, or to the line's end when it has none.
    /// </summary>
    private CsvInputException Malformed(CsvInputProblem problem, string detail, int start, int open, int closed = -1)
    {
        var text = _buffer.AsSpan(open, _validEnd - open);
        var stop = closed < 0 ? text.IndexOfAny((byte)'\r', (byte)'\n') : text[(closed - open + 1)..].IndexOfAny(_delimiter, (byte)'\r', (byte)'\n');
        if (stop >= 0) text = text[..(closed < 0 ? stop : closed - open + 1 + stop)];
        var cut = text.Length > ExcerptBytes;
        if (cut)
        {
            var length = ExcerptBytes;
            while (length > 0 && (text[length] & 0xC0) == 0x80) length--;
            text = text[..length];
        }
        return new CsvInputException(problem, Records + 1, detail)
        {
            Line = NextLine + LineBreaksWithin(_buffer.AsSpan(start, open - start)),
            Field = Encoding.UTF8.GetString(text) + (cut ? "…" : ""),
        };
    }

    /// <summary>How much of a malformed field an error quotes: enough to find it, little enough to read.</summary>
    private const int ExcerptBytes = 120;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddField(int start, int length)
    {
        if (_fieldCount == _fields.Length) Array.Resize(ref _fields, _fieldCount * 2);
        _fields[_fieldCount++] = new Field(start, length, KeyAt(start, length));
    }

    /// <summary>The <see cref="ColumnStatistics.ShortKey"/> of the bytes at <paramref name="start"/>, read as one word (the buffer has room past the data).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong KeyAt(int start, int length)
    {
        if ((uint)(length - 1) > 6) return 0;
        var word = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_buffer.AsSpan(start, 8));
        return (word & ((1UL << (length * 8)) - 1)) | ((ulong)length << 56);
    }

    private void AddQuoted(int start, int end, int escapes)
    {
        if (_quotedCount == _quoted.Length) Array.Resize(ref _quoted, _quotedCount * 2);
        _quoted[_quotedCount++] = (_fieldCount, escapes);
        AddField(start, end - start);
    }

    /// <summary>
    /// Once the record is complete: unescapes doubled quotes in place, writes the line breaks inside quoted fields as LF
    /// (<see cref="CellValues.LineBreaksAsLf(Span{byte})"/>: only a quoted field holds one) and trims them.
    /// </summary>
    private void FinishQuoted()
    {
        for (var k = 0; k < _quotedCount; k++)
        {
            var (index, escapes) = _quoted[k];
            ref var field = ref _fields[index];
            var length = escapes > 0 ? Unescape(_buffer.AsSpan(field.Start, field.Length)) : field.Length;
            length = CellValues.LineBreaksAsLf(_buffer.AsSpan(field.Start, length));
            var (offset, trimmed) = Trim(_buffer.AsSpan(field.Start, length));
            field = new Field(field.Start + offset, trimmed, KeyAt(field.Start + offset, trimmed));
        }
    }

    /// <summary>Where a field lies in the buffer, and its short key.</summary>
    private readonly record struct Field(int Start, int Length, ulong Key);

    private static int Unescape(Span<byte> field)
    {
        var w = 0;
        for (var r = 0; r < field.Length; r++, w++)
        {
            field[w] = field[r];
            if (field[r] == Quote) r++;
        }
        return w;
    }

    /// <summary>The bounds of a UTF-8 value without leading and trailing white space, as <see cref="char.IsWhiteSpace(char)"/> defines it.</summary>
    internal static (int Offset, int Length) Trim(ReadOnlySpan<byte> value)
    {
        var start = 0;
        while (start < value.Length)
        {
            var b = value[start];
            if (b < 0x80)
            {
                if (!IsAsciiWhiteSpace(b)) break;
                start++;
                continue;
            }
            Rune.DecodeFromUtf8(value[start..], out var rune, out var consumed);
            if (!IsWhiteSpace(rune)) break;
            start += consumed;
        }
        var end = value.Length;
        while (end > start)
        {
            var b = value[end - 1];
            if (b < 0x80)
            {
                if (!IsAsciiWhiteSpace(b)) break;
                end--;
                continue;
            }
            Rune.DecodeLastFromUtf8(value[start..end], out var rune, out var consumed);
            if (!IsWhiteSpace(rune)) break;
            end -= consumed;
        }
        return (start, end - start);
    }

    private static bool IsAsciiWhiteSpace(byte b) => b == (byte)' ' || (b >= (byte)'\t' && b <= (byte)'\r');

    private static bool IsWhiteSpace(Rune rune) => rune.IsBmp && char.IsWhiteSpace((char)rune.Value);

    /// <summary>A bit per byte of the 64 bytes at <paramref name="chunk"/>: set where a delimiter, quote, CR or LF is.</summary>
    private ulong Structural(int chunk)
    {
        ulong mask;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var origin = ref MemoryMarshal.GetArrayDataReference(_buffer);
            var lo = Vector256.LoadUnsafe(ref origin, (nuint)chunk);
            var hi = Vector256.LoadUnsafe(ref origin, (nuint)chunk + 32);
            mask = Matches(lo) | ((ulong)Matches(hi) << 32);
        }
        else
        {
            mask = 0;
            for (var i = 0; i < 64; i++)
            {
                var b = _buffer[chunk + i];
                if (b == _delimiter || b == Quote || b == (byte)'\n' || b == (byte)'\r') mask |= 1UL << i;
            }
        }
        var valid = _validEnd - chunk;
        return valid >= 64 ? mask : mask & ((1UL << valid) - 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Matches(Vector256<byte> bytes) =>
        (Vector256.Equals(bytes, Vector256.Create(_delimiter))
         | Vector256.Equals(bytes, Vector256.Create(Quote))
         | Vector256.Equals(bytes, Vector256.Create((byte)'\n'))
         | Vector256.Equals(bytes, Vector256.Create((byte)'\r'))).ExtractMostSignificantBits();
}

/// <summary>
/// What made delimited input unreadable: not UTF-8, a record over the size limit, a quoted field never closed
/// (<see cref="Malformed"/>), or text after a quoted field's closing quote (a quote inside a value not doubled).
/// </summary>
internal enum CsvInputProblem { InvalidEncoding, RecordTooLarge, Malformed, TextAfterQuote }

/// <summary>Delimited input that cannot be read: not UTF-8, a record over the size limit, or malformed quoting.</summary>
internal sealed class CsvInputException(CsvInputProblem problem, long record, string detail) : Exception(detail)
{
    public CsvInputProblem Problem { get; } = problem;
    public long RecordNumber { get; } = record;

    /// <summary>The line of the file where the record (for quoting, the field) that cannot be read starts; 0 where not known.</summary>
    public long Line { get; init; }

    /// <summary>For quoting: the field's text as the file has it, from its opening quote (cut at the line's end).</summary>
    public string? Field { get; init; }
}
