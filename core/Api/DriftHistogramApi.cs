using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Serverless.Core.Monitoring;
using Serverless.Core.Registry;

namespace Serverless.Core.Api;

using static ApiResults;

/// <summary>
/// <c>GET /api/models/{model}/drift/histogram?feature=</c>: one feature's reference and current distributions in the same
/// bins, for the newest drift check that compared features (the dashboard overlays them). 400 without a feature or for one the check did not
/// compare, 404 for an unknown model or one without a drift report.
/// </summary>
public sealed class DriftHistogramApi(DriftHistograms histograms, ModelRegistry registry, ModelPresence presence, ILogger<DriftHistogramApi> logger)
{
    public Task<IResult> GetAsync(string model, HttpRequest request, CancellationToken ct) => Guard(logger, async () =>
    {
        CheckModelName(model);
        const string featureParameter = "feature";
        OnlyQueryParameters(request, featureParameter);
        var feature = request.Query[featureParameter].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(feature)) throw new BadRequestException("Name the feature: ?feature=<column>.", Field("feature", "required"));
        if (await registry.GetAsync(model, ct) is null) throw await presence.WithoutVersionAsync(model, ct);
        try
        {
            return Json(await histograms.BuildAsync(model, feature, ct));
        }
        catch (HistogramUnavailableException e) when (e.UnknownFeature)
        {
            throw new BadRequestException(e.Message, Field("feature", e.Message));
        }
        catch (HistogramUnavailableException e)
        {
            throw new NotFoundException(e.Message);
        }
    });
}
