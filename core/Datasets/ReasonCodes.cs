namespace Serverless.Core.Datasets;

/// <summary>
/// The codes ingestion gives: why a file was quarantined (its report's <c>reasons</c>, the API's and the dashboard's
/// reason codes), and why a row was rejected (counted per code in <c>rejectedBy</c> and named in the problem log).
/// A code is part of the API: it is written here once and read from here.
/// </summary>
public static class ReasonCodes
{
    // The upload itself.
    public const string InvalidBlobName = "invalid_blob_name";
    public const string UnsupportedExtension = "unsupported_extension";
    public const string SpecInvalid = "spec_invalid";
    public const string DecompressedTooLarge = "decompressed_too_large";
    public const string InvalidGzip = "invalid_gzip";
    public const string TruncatedGzip = "truncated_gzip";
    public const string BinaryContent = "binary_content";
    public const string EmptyFile = "empty_file";
    public const string NoDelimiter = "no_delimiter";
    public const string MixedDelimiters = "mixed_delimiters";

    // Reading its lines.
    public const string LineTooLong = "line_too_long";
    public const string UnterminatedQuote = "unterminated_quote";
    public const string TextAfterQuote = "text_after_quote";
    public const string InvalidEncoding = "invalid_encoding";
    public const string HeaderOnly = "header_only";
    public const string TooManyInvalidRows = "too_many_invalid_rows";

    // Its header and columns.
    public const string EmptyColumnName = "empty_column_name";
    public const string DuplicateColumns = "duplicate_columns";
    public const string LabelMissing = "label_missing";
    public const string TimeColumnMissing = "time_column_missing";
    public const string LabelAllMissing = "label_all_missing";
    public const string LabelConstant = "label_constant";
    public const string LabelNotNumeric = "label_not_numeric";
    public const string LabelTooManyClasses = "label_too_many_classes";
    public const string LabelNotBinary = "label_not_binary";
    public const string NonFiniteValues = "non_finite_values";
    public const string ColumnAllMissing = "column_all_missing";
    public const string TooManyMissing = "too_many_missing";
    public const string NotNumbers = "not_numbers";
    public const string NotBooleans = "not_booleans";
    public const string NotDates = "not_dates";
    public const string NoFeatures = "no_features";
    public const string SchemaMismatch = "schema_mismatch";

    // An accepted upload some of whose rows were rejected.
    public const string RowsRejected = "rows_rejected";

    // A data file read while the spec dropped before it was refused (quarantined): it was read under the spec still in
    // force, which may not be what its uploader meant.
    public const string DroppedSpecRefused = "dropped_spec_refused";

    // Why a row was rejected (the file may still be accepted).
    public const string RaggedRows = "ragged_rows";
    public const string HeaderRepeated = "header_repeated";
    public const string LabelMissingInRow = "label_missing_in_row";
    public const string ValueOutOfRange = "value_out_of_range";
}
