// Copies the models that `make unity-package` put in the package's Models~ folder (not
// imported by Unity; .gitignored) into Assets/StreamingAssets/AssetGen/<generator>/, where
// builds keep them as plain files and the runtime reads them (see the TalkingNpc sample).
using System.IO;
using UnityEditor;
using UnityEngine;

namespace AssetGen.Editor
{
    public static class ModelInstaller
    {
        public const string PackageModels = "Packages/com.assetgen.runtime/Models~";
        public const string StreamingFolder = "AssetGen";

        [MenuItem("Tools/AssetGen/Copy Models to StreamingAssets")]
        public static void CopyModels()
        {
            // Unity maps "Packages/<name>" to the package's folder, wherever it is installed
            string source = Path.GetFullPath(PackageModels);
            if (!Directory.Exists(source))
            {
                EditorUtility.DisplayDialog("AssetGen", "No models in " + source + ". Run `make unity-package` " +
                    "in the AssetGen repository (it copies plugins/*/model there), or copy each model " +
                    "folder to Assets/StreamingAssets/AssetGen/<generator>/ by hand.", "OK");
                return;
            }
            string target = Path.Combine(Application.dataPath, "StreamingAssets", StreamingFolder);
            int copied = 0;
            foreach (string model in Directory.GetDirectories(source))
            {
                string into = Path.Combine(target, Path.GetFileName(model));
                Directory.CreateDirectory(into);
                foreach (string file in Directory.GetFiles(model))
                {
                    File.Copy(file, Path.Combine(into, Path.GetFileName(file)), true);
                    copied++;
                }
            }
            AssetDatabase.Refresh();
            Debug.Log("AssetGen: copied " + copied + " model files to " + target);
        }
    }
}
