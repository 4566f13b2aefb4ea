using Serverless.Core.Storage;
using Serverless.Core.Training;

namespace Serverless.Orchestrations.Activities;

/// <summary>
/// Adds a run's labelled live rows to its train split: writes the split's rows followed by the feedback rows beside the
/// feedback blob, and returns the splits with that train blob. Idempotent: the same input writes the same blob.
/// </summary>
public sealed class AddFeedbackRows(PipelineStorage storage) : PipelineActivity<FeedbackSplitInput, SplitRefs>
{
    public override async Task<SplitRefs> RunAsync(FeedbackSplitInput input, CancellationToken cancellationToken)
    {
        var train = (await storage.Datasets.GetBlobClient(input.Splits.Train).DownloadContentAsync(cancellationToken)).Value.Content.ToString();
        var feedback = (await storage.Datasets.GetBlobClient(input.Feedback.TrainBlob).DownloadContentAsync(cancellationToken)).Value.Content.ToString();
        var trainHeader = train[..Math.Max(train.IndexOf('\n'), 0)];
        var newline = feedback.IndexOf('\n');
        var feedbackHeader = newline < 0 ? feedback : feedback[..newline];
        if (trainHeader != feedbackHeader)
        {
            throw new InvalidOperationException($"The feedback rows' columns ({feedbackHeader}) are not the train split's ({trainHeader}).");
        }
        var target = $"{input.Feedback.TrainBlob[..(input.Feedback.TrainBlob.LastIndexOf('/') + 1)]}train-with-split-s{input.Splits.Seed}.csv";
        var rows = newline < 0 ? "" : feedback[(newline + 1)..];
        var combined = train.EndsWith('\n') ? train + rows : train + "\n" + rows;
        await storage.Datasets.GetBlobClient(target).UploadAsync(BinaryData.FromString(combined), overwrite: true, cancellationToken);
        // The feedback rows' classes are not counted: the split's class counts no longer hold for train, so none are kept.
        return input.Splits with { Train = target, TrainRows = input.Splits.TrainRows + input.Feedback.TrainRows, Classes = null };
    }
}
