using System.Buffers;
using System.Security.Cryptography;
using Serverless.Core.Training;

namespace Serverless.Core.Datasets;

/// <summary>
/// Writes the canonical CSV of a dataset version and hashes it on the way. Records whose input bytes are already
/// canonical come as runs of the reader's buffer and are written in one piece; the others come from a staging buffer.
/// While everything so far is the input's own bytes from its first byte on, nothing is written at all: if the whole
/// output turns out to be the input, the input file serves as the canonical file (<see cref="IsInput"/>); otherwise the
/// input's prefix is copied once, when the first difference arrives.
/// </summary>
internal sealed class CanonicalSink(string inputPath, string outputPath, IncrementalHash hash) : IDisposable
{
    private const int StageSize = 1 << 16;
    private static readonly SearchValues<byte> NeedsQuotes = SearchValues.Create(",\"\r\n"u8);

    private readonly byte[] _stage = new byte[StageSize];
    private int _staged;
    private byte[]? _run;
    private int _runStart;
    private int _runLength;
    private long _runOffset;
    private long _mirrored;
    private Stream? _output;

    /// <summary>Whether all bytes so far are the input's first bytes, so no output has been written.</summary>
    private bool IsMirroring => _output is null;

    /// <summary>After <see cref="Complete"/>: whether the canonical file is the input file itself (nothing was written).</summary>
    public bool IsInput { get; private set; }

    /// <summary>
    /// Appends bytes of the reader's buffer found at <paramref name="fileOffset"/> in the input: they extend the pending
    /// run when they follow it, or start a new one.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void AppendRun(byte[] buffer, int start, int length, long fileOffset)
    {
        if (ReferenceEquals(buffer, _run) && _runStart + _runLength == start) _runLength += length;
        else StartRun(buffer, start, length, fileOffset);
    }

    private void StartRun(byte[] buffer, int start, int length, long fileOffset)
    {
        FlushRun();
        _run = buffer;
        _runStart = start;
        _runLength = length;
        _runOffset = fileOffset;
    }

    /// <summary>Writes the pending run; called before the buffer it points into changes.</summary>
    public void FlushRun()
    {
        if (_runLength == 0) return;
        var run = _run.AsSpan(_runStart, _runLength);
        if (IsMirroring && _runOffset == _mirrored)
        {
            hash.AppendData(run);
            _mirrored += run.Length;
        }
        else Emit(run);
        _run = null;
        _runLength = 0;
    }

    /// <summary>Writes bytes that are not a run of the input (a rewritten record or the header).</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        FlushRun();
        Emit(bytes);
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (_output is null) StopMirroring();
        hash.AppendData(bytes);
        if (_staged + bytes.Length <= StageSize)
        {
            bytes.CopyTo(_stage.AsSpan(_staged));
            _staged += bytes.Length;
            return;
        }
        FlushStage();
        if (bytes.Length < StageSize)
        {
            bytes.CopyTo(_stage);
            _staged = bytes.Length;
            return;
        }
        _output!.Write(bytes);
    }

    /// <summary>Starts the output file with the input's bytes mirrored so far (already hashed).</summary>
    private void StopMirroring()
    {
        _output = new FileStream(outputPath, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        if (_mirrored == 0) return;
        using var input = new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (var left = _mirrored; left > 0;)
            {
                var read = input.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0) throw new EndOfStreamException($"{inputPath} ended while copying its first {_mirrored} bytes.");
                _output.Write(buffer, 0, read);
                left -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void FlushStage()
    {
        if (_staged == 0) return;
        _output!.Write(_stage, 0, _staged);
        _staged = 0;
    }

    /// <summary>Ends the output: the input file itself when it was mirrored whole, else the written file.</summary>
    public void Complete()
    {
        FlushRun();
        if (IsMirroring && _mirrored == new FileInfo(inputPath).Length)
        {
            IsInput = true;
            return;
        }
        if (_output is null) StopMirroring();
        FlushStage();
        _output!.Flush();
    }

    public void Dispose() => _output?.Dispose();

    /// <summary>
    /// Whether a record starting with these bytes would be taken for a comment by a reader of the canonical file: Sylvan
    /// skips records starting with '#', ML.NET's text loader lines starting with "//" (and '#' before the header). The
    /// canonical writers quote a first field that starts so, and the record is then read as data by all of them.
    /// </summary>
    public static bool LeadsLikeComment(ReadOnlySpan<byte> record) =>
        record.Length > 0 && (record[0] == (byte)'#' || (record[0] == (byte)'/' && record.Length > 1 && record[1] == (byte)'/'));

    /// <summary>
    /// Appends a field as canonical CSV writes it: quoted, with quotes doubled, only when it holds a comma, quote, CR or
    /// LF, or when it is the record's first (<paramref name="first"/>) and starts like a comment.
    /// </summary>
    public static void AppendField(RecordBuffer<byte> row, ReadOnlySpan<byte> value, bool first = false)
    {
        if (value.IndexOfAny(NeedsQuotes) < 0 && !(first && LeadsLikeComment(value)))
        {
            row.Append(value);
            return;
        }
        row.Append((byte)'"');
        foreach (var b in value)
        {
            if (b == (byte)'"') row.Append((byte)'"');
            row.Append(b);
        }
        row.Append((byte)'"');
    }
}
