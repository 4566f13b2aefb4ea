using Serverless.Core.Api;

namespace Serverless.LocalHost;

/// <summary>The local host's route for registering a candidate run by hand (an admin route: the group carries the key filter).</summary>
public static class RunRegistrationRoutes
{
    public static RouteGroupBuilder MapRunRegistration(this RouteGroupBuilder admin)
    {
        admin.MapPost(ApiRoutes.RegisterRun, (string model, string runId, HttpRequest r, RunRegistrationApi h, CancellationToken ct) => h.RegisterAsync(model, runId, r, ct))
            .Describe<Serverless.Core.Registry.ModelManifest>("RegisterRun", "Register a candidate run as a new version by hand; audited", 201, 404, 409).Body<ReasonBody>(optional: true);
        return admin;
    }
}
