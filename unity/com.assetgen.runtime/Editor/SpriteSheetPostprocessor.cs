// Imports AssetGen sprite sheets: a PNG with an AssetGen frame table of the same name next to
// it (`portraits_7.png` + `portraits_7.json`, the `sheet` format) is sliced into one sprite
// per frame, with the frame's rect and pivot, and every frame tag of the table becomes an
// AnimationClip asset beside them (`portraits_7_talk.anim`) that swaps a SpriteRenderer's
// sprite frame by frame at the frames' durations.
using System;
using System.Collections.Generic;
using System.IO;
using UnityEditor;
using UnityEngine;

namespace AssetGen.Editor
{
    public sealed class SpriteSheetPostprocessor : AssetPostprocessor
    {
        // the table beside a sheet PNG, when it is an AssetGen table describing that PNG
        static SpriteSheetTable TableOf(string pngPath)
        {
            if (!pngPath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) return null;
            string jsonPath = pngPath.Substring(0, pngPath.Length - 4) + ".json";
            if (!File.Exists(jsonPath)) return null;
            string text = File.ReadAllText(jsonPath);
            if (!SpriteSheetTable.LooksLikeSheet(text)) return null;
            SpriteSheetTable table;
            try
            {
                table = SpriteSheetTable.Parse(text);
            }
            catch (FormatException ex)
            {
                Debug.LogWarning("AssetGen: " + jsonPath + " was not used to slice " + pngPath + ": " + ex.Message);
                return null;
            }
            return table.FromAssetGen && table.Image == Path.GetFileName(pngPath) ? table : null;
        }

        void OnPreprocessTexture()
        {
            var table = TableOf(assetPath);
            if (table == null) return;
            var importer = (TextureImporter)assetImporter;
            importer.textureType = TextureImporterType.Sprite;
            importer.spriteImportMode = SpriteImportMode.Multiple;
            // generated pixel sprites: exact pixels, no mipmaps, no lossy compression
            importer.filterMode = FilterMode.Point;
            importer.mipmapEnabled = false;
            importer.alphaIsTransparency = true;
            importer.textureCompression = TextureImporterCompression.Uncompressed;
            var sprites = new SpriteMetaData[table.Sprites.Count];
            for (int i = 0; i < sprites.Length; i++)
            {
                var s = table.Sprites[i];
                sprites[i] = new SpriteMetaData
                {
                    name = s.Name,
                    rect = new Rect(s.X, s.Y, s.Width, s.Height),
                    alignment = (int)SpriteAlignment.Custom,
                    pivot = new Vector2((float)s.PivotX, (float)s.PivotY),
                };
            }
            importer.spritesheet = sprites;
        }

        static void OnPostprocessAllAssets(string[] importedAssets, string[] deletedAssets,
                                           string[] movedAssets, string[] movedFromAssetPaths)
        {
            var imported = new HashSet<string>(importedAssets, StringComparer.Ordinal);
            foreach (string path in importedAssets)
            {
                if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
                {
                    // a new or changed table re-slices its PNG; the clips follow on that import
                    string png = path.Substring(0, path.Length - 5) + ".png";
                    if (!imported.Contains(png) && TableOf(png) != null)
                        AssetDatabase.ImportAsset(png, ImportAssetOptions.ForceUpdate);
                }
                else
                {
                    var table = TableOf(path);
                    if (table != null) WriteClips(path, table);
                }
            }
        }

        static void WriteClips(string pngPath, SpriteSheetTable table)
        {
            var byName = new Dictionary<string, Sprite>(StringComparer.Ordinal);
            foreach (var asset in AssetDatabase.LoadAllAssetsAtPath(pngPath))
            {
                var sprite = asset as Sprite;
                if (sprite != null) byName[sprite.name] = sprite;
            }
            string stem = pngPath.Substring(0, pngPath.Length - 4);
            foreach (var tag in table.Clips)
            {
                var keys = new ObjectReferenceKeyframe[tag.Frames.Count];
                for (int k = 0; k < keys.Length; k++)
                {
                    Sprite sprite;
                    string name = table.Sprites[tag.Frames[k]].Name;
                    if (!byName.TryGetValue(name, out sprite))
                    {
                        Debug.LogWarning("AssetGen: " + pngPath + " has no sprite " + name + "; clip " + tag.Name + " not written");
                        keys = null;
                        break;
                    }
                    keys[k] = new ObjectReferenceKeyframe { time = (float)tag.Times[k], value = sprite };
                }
                if (keys == null) continue;
                var clip = new AnimationClip { name = tag.FileName, frameRate = (float)tag.FrameRate };
                var binding = EditorCurveBinding.PPtrCurve("", typeof(SpriteRenderer), "m_Sprite");
                AnimationUtility.SetObjectReferenceCurve(clip, binding, keys);
                var settings = AnimationUtility.GetAnimationClipSettings(clip);
                settings.loopTime = true;
                AnimationUtility.SetAnimationClipSettings(clip, settings);

                // replace an earlier clip in place, so references to it (Animator states) hold
                string clipPath = stem + "_" + tag.FileName + ".anim";
                var existing = AssetDatabase.LoadAssetAtPath<AnimationClip>(clipPath);
                if (existing != null)
                {
                    EditorUtility.CopySerialized(clip, existing);
                    EditorUtility.SetDirty(existing);
                }
                else
                {
                    AssetDatabase.CreateAsset(clip, clipPath);
                }
            }
            AssetDatabase.SaveAssets();
        }
    }
}
