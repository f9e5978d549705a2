using System;
using System.Collections;
using System.Threading.Tasks;
using AssetGen.Bridge;
using UnityEngine;

/// <summary>
/// An NPC whose portrait, talking-mouth frames and dialogue lines come from AssetGen at run
/// time. Every few seconds it says its next line: the line is shown and the talk frames play
/// as sprites until it has been on screen long enough to read; then the still portrait returns.
/// </summary>
/// <remarks>
/// Python start-up and generation run on a worker thread (Task.Run) so the main thread never
/// waits for them; textures and sprites are made on the main thread, as Unity requires.
/// The engine is shared by the whole process (AssetGenEngine.Start returns the running one), so
/// this component never disposes it; the bridge releases it itself on a domain reload.
/// </remarks>
[RequireComponent(typeof(SpriteRenderer))]
public class TalkingNpc : MonoBehaviour
{
    [Header("Python")]
    [Tooltip("The python (python.exe) of the environment where assetgen is installed, " +
             "e.g. C:/AssetGen/.venv/Scripts/python.exe or /home/me/assetgen/.venv/bin/python")]
    public string pythonExecutable = "";
    [Tooltip("auto, cpu or cuda")]
    public string device = "auto";

    [Header("NPC")]
    [Tooltip("The same seed always gives the same NPC: face, voice frames and lines")]
    public long npcSeed = 7;
    [Range(6, 12)] public int talkFrames = 8;
    public float talkFramesPerSecond = 12f;
    [Range(1, 10)] public int dialogueLines = 3;
    public float secondsBetweenLines = 2f;
    public string portraitOptionsJson = "{}";
    public string talkOptionsJson = "{\"animation\": \"talk\"}";
    public string dialogueOptionsJson = "{}";
    public float pixelsPerUnit = 32f;

    SpriteRenderer spriteRenderer;
    Task<Generated> generating;
    Sprite portrait;
    Sprite[] talk;
    string[] lines;
    string shownLine = "";
    string error;

    sealed class Generated
    {
        public RgbaImage Portrait;
        public RgbaImage[] Talk;
        public string[] Lines;
    }

    void Awake()
    {
        spriteRenderer = GetComponent<SpriteRenderer>();
    }

    void Start()
    {
        var config = new AssetGenConfig { PythonExecutable = pythonExecutable, Device = device };
        long seed = npcSeed;
        int frames = talkFrames, count = dialogueLines;
        string portraitOptions = portraitOptionsJson, talkOptions = talkOptionsJson;
        string dialogueOptions = dialogueOptionsJson;
        generating = Task.Run(() =>
        {
            var engine = AssetGenEngine.Start(config);
            return new Generated
            {
                Portrait = engine.GenerateRgba("portraits", seed, portraitOptions),
                Talk = engine.AnimateRgba("portraits", seed, frames, talkOptions),
                Lines = engine.GenerateText("dialogue", seed, count, dialogueOptions),
            };
        });
    }

    void Update()
    {
        if (generating == null || !generating.IsCompleted)
            return;
        var done = generating;
        generating = null;
        if (done.IsFaulted)
        {
            var cause = done.Exception.GetBaseException();
            var assetGenError = cause as AssetGenException;
            error = assetGenError != null ? assetGenError.PythonType + ": " + assetGenError.Message
                                          : cause.Message;
            Debug.LogError("TalkingNpc: " + error, this);
            return;
        }
        portrait = ToSprite(done.Result.Portrait);
        talk = Array.ConvertAll(done.Result.Talk, ToSprite);
        lines = done.Result.Lines;
        spriteRenderer.sprite = portrait;
        StartCoroutine(Converse());
    }

    IEnumerator Converse()
    {
        for (int next = 0; ; next = (next + 1) % lines.Length)
        {
            yield return new WaitForSeconds(secondsBetweenLines);
            yield return Say(lines[next]);
        }
    }

    IEnumerator Say(string line)
    {
        shownLine = line;
        float readingTime = Mathf.Max(1.5f, 0.06f * line.Length);
        float frameTime = 1f / Mathf.Max(1f, talkFramesPerSecond);
        for (float shown = 0f; shown < readingTime; shown += frameTime)
        {
            spriteRenderer.sprite = talk[Mathf.FloorToInt(shown / frameTime) % talk.Length];
            yield return new WaitForSeconds(frameTime);
        }
        spriteRenderer.sprite = portrait;
        shownLine = "";
    }

    void OnGUI()
    {
        var message = error ?? shownLine;
        if (!string.IsNullOrEmpty(message))
            GUI.Box(new Rect(10, Screen.height - 70, Screen.width - 20, 60), message);
    }

    void OnDestroy()
    {
        if (portrait != null)
            DestroySprite(portrait);
        if (talk != null)
            foreach (var sprite in talk)
                DestroySprite(sprite);
    }

    Sprite ToSprite(RgbaImage image)
    {
        var texture = new Texture2D(image.Width, image.Height, TextureFormat.RGBA32, false)
        {
            filterMode = FilterMode.Point,
            wrapMode = TextureWrapMode.Clamp,
        };
        // Unity's textures start at the bottom row; the bridge's images at the top one.
        texture.LoadRawTextureData(image.RowsBottomToTop());
        texture.Apply(false, true);
        return Sprite.Create(texture, new Rect(0, 0, image.Width, image.Height),
                             new Vector2(0.5f, 0.5f), pixelsPerUnit);
    }

    static void DestroySprite(Sprite sprite)
    {
        Destroy(sprite.texture);
        Destroy(sprite);
    }
}
